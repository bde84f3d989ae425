//! `git-credential-pat`: wires the real process into [`git_credential_pat::run`].

use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    git_credential_pat::hardening::disable_core_dumps();
    let env = |name: &str| std::env::var_os(name);
    let stdin = std::io::stdin();
    let code = git_credential_pat::run(git_credential_pat::Process {
        args: std::env::args_os().skip(1).collect(),
        env: &env,
        stdin_is_terminal: stdin.is_terminal(),
        stdout_is_terminal: std::io::stdout().is_terminal(),
        stdin: &mut stdin.lock(),
        stdout: &mut std::io::stdout().lock(),
        stderr: &mut std::io::stderr().lock(),
        now: git_credential_pat::record::Stamp::now(),
    });
    ExitCode::from(code)
}
