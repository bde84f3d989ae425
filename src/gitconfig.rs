//! What people's commands learn from git: the `credential.helper` entries in effect and the
//! options given to pat in them, `useHttpPath`, and git's version.
//!
//! Only people's commands come here: the hot path (`get`/`store`/`erase`) never starts git or
//! anything else.

use std::ffi::OsString;
use std::process::{Command, Stdio};

use crate::cli::{self, Options};
use crate::display::{escape, shell_quote};
use crate::key::HostKey;

/// One `credential.helper` value and the URL pattern of its key, if any
/// (`credential.<url>.helper`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperEntry {
    /// The `<url>` part of `credential.<url>.helper`; `None` for `credential.helper`.
    pub url: Option<String>,
    /// The helper value as written.
    pub value: String,
}

/// Runs git with `args`; `None` when git cannot be run. Standard input is closed so git never
/// waits for a person.
pub fn git(args: &[&str]) -> Option<std::process::Output> {
    Command::new("git")
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .ok()
}

/// Every `credential.helper` and `credential.<url>.helper` in the effective config, in the
/// order git reads them.
pub fn helper_entries() -> Vec<HelperEntry> {
    let Some(out) = git(&[
        "config",
        "--null",
        "--get-regexp",
        r"^credential\..*helper$",
    ]) else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split('\0')
        .filter(|e| !e.is_empty())
        .filter_map(|entry| {
            let (key, value) = entry.split_once('\n').unwrap_or((entry, ""));
            let middle = key.strip_prefix("credential.")?;
            let url = match middle.rsplit_once('.') {
                Some((url, last)) if last.eq_ignore_ascii_case("helper") => Some(url.to_owned()),
                None if middle.eq_ignore_ascii_case("helper") => None,
                _ => return None,
            };
            Some(HelperEntry {
                url,
                value: value.to_owned(),
            })
        })
        .collect()
}

/// Whether a helper value names this helper (`pat ...`, or a path ending in
/// `git-credential-pat`), and its words after the program.
pub fn pat_words(value: &str) -> Option<Result<Vec<String>, String>> {
    let needs_shell = value.starts_with('!') || value.contains('$') || value.contains('`');
    let words = shell_words(value.trim_start_matches('!'));
    // The program as the shell sees it: `pat`, `/path/git-credential-pat`, or an absolute path
    // quoted after its leading slash (`/'dir with space'/git-credential-pat`), as install.sh
    // writes it so that git still sees a value starting with '/'.
    let first = match &words {
        Some(w) => w.first()?.clone(),
        None => value
            .trim_start_matches('!')
            .split_whitespace()
            .next()?
            .to_owned(),
    };
    let names_pat = first == "pat" || first.rsplit('/').next() == Some("git-credential-pat");
    if !names_pat {
        return None;
    }
    match words {
        Some(mut w) if !needs_shell => {
            w.remove(0);
            Some(Ok(w))
        }
        _ => Some(Err(value.to_owned())),
    }
}

/// Whether git can run a `credential.helper` value that names pat: git runs a value as a
/// shell command only when it starts with `/` (an absolute path) or `!`; any other value
/// becomes `git credential-<value>`, so its first word must be `pat` itself (gitcredentials(7),
/// "custom helpers"). A quoted path (`'/dir with space/git-credential-pat'`) or a relative one
/// never runs.
pub fn git_can_run(value: &str) -> bool {
    value.starts_with('/')
        || value.starts_with('!')
        || value.split_whitespace().next() == Some("pat")
}

/// Splits `s` into words as a POSIX shell would for the plain cases git's helper values use:
/// blanks, single quotes, double quotes and backslashes. `None` for unbalanced quotes.
pub fn shell_words(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => cur.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\' | '$' | '`') => cur.push(c),
                            '\n' => {}
                            c => {
                                cur.push('\\');
                                cur.push(c);
                            }
                        },
                        c => cur.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') | None => {}
                    Some(c) => cur.push(c),
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}

/// The options of the first `credential.helper` entry that names pat, for people's commands
/// (so `list` shows exactly the store git uses). Entries that need a shell to read are named in
/// `notes` and skipped.
pub fn helper_options(notes: &mut Vec<String>) -> Options {
    for entry in helper_entries() {
        match pat_words(&entry.value) {
            None => continue,
            Some(Err(v)) => {
                notes.push(format!(
                    "note: skipping credential.helper '{}': it needs a shell to read",
                    escape(v.as_bytes())
                ));
            }
            Some(Ok(words)) => {
                let mut options = Options::default();
                let mut it = words.into_iter().map(OsString::from);
                while let Some(w) = it.next() {
                    match cli::take_option(&mut options, &w, &mut it) {
                        Ok(Some(None)) => {}
                        _ => {
                            notes.push(format!(
                                "note: skipping credential.helper '{}': it has an argument this version does not understand",
                                escape(entry.value.as_bytes())
                            ));
                            options = Options::default();
                            break;
                        }
                    }
                }
                return options;
            }
        }
    }
    Options::default()
}

/// git's version as (major, minor), if git runs.
pub fn git_version() -> Option<(u32, u32)> {
    let out = git(&["--version"])?;
    let s = String::from_utf8_lossy(&out.stdout);
    let v = s.trim().strip_prefix("git version ")?;
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()?;
    Some((major, minor))
}

/// `git config --get-urlmatch <key> <url>` as a boolean (git's syntax); `false` when unset.
pub fn urlmatch_bool(key: &str, url: &str) -> bool {
    git(&["config", "--type=bool", "--get-urlmatch", key, url])
        .is_some_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "true")
}

/// `git config --get-urlmatch <key> <url>` as bytes (the last line ending removed); `None`
/// when unset, empty or git does not run.
pub fn urlmatch_value(key: &str, url: &str) -> Option<Vec<u8>> {
    let out = git(&["config", "--get-urlmatch", key, url])?;
    let mut v = out.stdout;
    if v.last() == Some(&b'\n') {
        v.pop();
    }
    (out.status.success() && !v.is_empty()).then_some(v)
}

/// For a token scoped to `path` on `host`: the exact command, for people, that makes git send
/// paths to helpers there (the URL escaped, the config key shell-quoted), or `None` when
/// `credential.useHttpPath` is already on. Without it git never sends a path, and a scoped
/// token is never used.
pub fn use_http_path_fix(host: &HostKey, path: &[u8]) -> Option<String> {
    let url = format!("{}/{}", host.origin(), String::from_utf8_lossy(path));
    (!urlmatch_bool("credential.useHttpPath", &url)).then(|| use_http_path_command(host))
}

/// `git config --global credential.<origin>.useHttpPath true` for `host`, as shown to people.
fn use_http_path_command(host: &HostKey) -> String {
    let key = format!("credential.{}.useHttpPath", host.display());
    format!("git config --global {} true", shell_quote(&key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_runs_absolute_paths_bang_commands_and_pat() {
        assert!(git_can_run("pat --backend=file"));
        assert!(git_can_run("/usr/local/bin/git-credential-pat"));
        assert!(git_can_run("/'dir with space'/git-credential-pat --ttl=1h"));
        assert!(git_can_run("!git-credential-pat"));
        assert!(!git_can_run("'/dir with space/git-credential-pat'"));
        assert!(!git_can_run("\"/dir with space/git-credential-pat\""));
        assert!(!git_can_run("./git-credential-pat"));
        assert!(!git_can_run("git-credential-pat"));
    }

    #[test]
    fn the_use_http_path_command_escapes_then_quotes_the_url() {
        assert_eq!(
            use_http_path_command(&HostKey::new(b"https", b"GitHub.com:8443")),
            "git config --global credential.https://github.com:8443.useHttpPath true"
        );
        assert_eq!(
            use_http_path_command(&HostKey::new(b"https", b"e\x1b[2J$(id)'")),
            "git config --global 'credential.https://e\\x1B[2j$(id)'\\''.useHttpPath' true"
        );
    }

    #[test]
    fn words_split_like_a_shell() {
        assert_eq!(
            shell_words("pat --file '/a b/c' --ttl=8h").unwrap(),
            ["pat", "--file", "/a b/c", "--ttl=8h"]
        );
        assert_eq!(
            shell_words(r#"pat "--file=/x \"y\"" a\ b"#).unwrap(),
            ["pat", "--file=/x \"y\"", "a b"]
        );
        assert_eq!(shell_words("pat 'unbalanced"), None);
        assert_eq!(shell_words("  ").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn recognises_pat_helpers() {
        assert_eq!(pat_words("pat").unwrap().unwrap(), Vec::<String>::new());
        assert_eq!(
            pat_words("pat --backend=file").unwrap().unwrap(),
            ["--backend=file"]
        );
        assert_eq!(
            pat_words("/usr/local/bin/git-credential-pat --ttl 1h")
                .unwrap()
                .unwrap(),
            ["--ttl", "1h"]
        );
        assert!(pat_words("store").is_none());
        assert!(pat_words("patch").is_none());
        assert!(pat_words("").is_none());
        assert!(pat_words("pat --file=$HOME/x").unwrap().is_err());
        assert!(
            pat_words("!/bin/git-credential-pat --file=x")
                .unwrap()
                .is_err()
        );
        assert_eq!(
            pat_words("/'dir with space'/bin/git-credential-pat --file '/a b'")
                .unwrap()
                .unwrap(),
            ["--file", "/a b"]
        );
    }
}
