//! The people's commands: `add`, `list`, `remove`, `prune`, `import`, `doctor`, `verify`,
//! `rotate`.
//!
//! They see no helper arguments, so their settings come from the defaults, then the options of
//! the first `credential.helper` entry that names pat, then the environment, then their own
//! command line: they act on exactly the store git uses. Unlike git's actions they may start
//! git (to read its config), prompt at a terminal and print tables.
//!
//! Each command takes three steps: parse its arguments (`args`) into a typed request, act
//! through [`crate::manage`] (`doctor`: gather its findings as data), and print the outcome
//! through its `Session`.

mod add;
mod args;
mod doctor;
mod import;
mod list;
mod remove;
mod rotate;
mod session;
pub mod url;
mod verify;

use std::ffi::OsString;

use crate::chain::Chain;
use crate::cli::Options;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::process::Process;
use args::{COMMON, parse_args};
use session::Session;

/// Runs the people's command `name`.
pub fn run(name: &str, before: Options, args: Vec<OsString>, p: &mut Process<'_>) -> Result<u8> {
    let spec = match name {
        "add" => &add::SPEC,
        "list" => &list::SPEC,
        "remove" => &remove::SPEC,
        "prune" => &remove::PRUNE_SPEC,
        "import" => &import::SPEC,
        "verify" => &verify::SPEC,
        "rotate" => &rotate::SPEC,
        _ => &doctor::SPEC,
    };
    let Some(args) = parse_args(name, spec, before, args)? else {
        writeln!(p.stdout, "{}\n{COMMON}", spec.usage).map_err(Error::Stdout)?;
        return Ok(0);
    };
    let mut notes = Vec::new();
    let helper = crate::gitconfig::helper_options(&mut notes);
    for n in &notes {
        let _ = writeln!(p.stderr, "git-credential-pat: {n}");
    }
    let config = Config::resolve_with(&args.options, p.env, &helper)?;
    let mut chain = Chain::open(&config);
    // Under auto without any session bus there is no keychain to speak of: the people's
    // commands read the file alone, quietly (`doctor` says why). `add` keeps it so that
    // falling back to the file is reported as git's own store reports it.
    if name != "add" && chain.drop_unconfigured_keychain(&config) && name == "doctor" {
        notes.push(
            "note: no session bus is configured (DBUS_SESSION_BUS_ADDRESS, $XDG_RUNTIME_DIR/bus), so auto keeps tokens in the file".into(),
        );
    }
    let mut s = Session { p, config, chain };
    let code = match name {
        "add" => add::run(&mut s, &args),
        "list" => list::run(&mut s, &args),
        "remove" => remove::run(&mut s, &args),
        "prune" => remove::prune(&mut s),
        "import" => import::run(&mut s, &args),
        "verify" => verify::run(&mut s, &args),
        "rotate" => rotate::run(&mut s, &args),
        _ => doctor::run(&mut s, &args, &notes),
    };
    s.flush_notes();
    code
}
