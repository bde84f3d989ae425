//! Hostile hosts, usernames, paths and arguments through every command that shows them:
//! what reaches a person is escaped once, a suggested command is shell-quoted, and an
//! argument that might be a token is described, never repeated.

use std::process::Command;

use crate::common::{run, shell_quote, text};
use crate::protocol::Pat;

/// A command substitution a careless message would hand to the shell of whoever pastes it.
const SUBST: &str = "$(touch /tmp/pwned)";
/// The token of the tests that type one on the command line by mistake.
const SECRET: &str = "ghp_SECRET123";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A store, configured as git's helper, holding credentials whose hosts, paths and usernames
/// carry a screen clear (ESC), a bell (BEL), a right-to-left override, a line separator,
/// a command substitution and a single quote; each scoped to a path, one expiring in three
/// days.
fn hostile(name: &str) -> Pat {
    let p = Pat::new(name);
    p.world.use_pat(&format!(
        "--backend=file --file={}",
        shell_quote(p.file.to_str().unwrap())
    ));
    let soon = now() + 3 * 86_400;
    p.store(
        "protocol=https\nhost=evil\x1b[2J\x07.example\npath=acme\x1b[2J\nusername=u\x07\u{202E}\npassword=t1\n",
    );
    p.store(&format!(
        "protocol=https\nhost={SUBST}\npath=o'brien\nusername=it's\u{2028}\npassword=t2\n"
    ));
    p.store(&format!(
        "protocol=https\nhost=h.example\npath=\u{202E}acme\nusername={SUBST}\npassword=t3\npassword_expiry_utc={soon}\n"
    ));
    p
}

/// Runs the helper with `args`; (exit code, stdout, stderr), all checked by [`shown_safely`].
fn pat(p: &Pat, args: &[&str], stdin: &str) -> (i32, String, String) {
    let out = p.world.run_helper(args, stdin);
    let (o, e) = (text(&out.stdout), text(&out.stderr));
    shown_safely(&format!("{args:?}"), &format!("{o}{e}"));
    (out.status.code().unwrap_or(-1), o, e)
}

/// Whether `c` must never reach a terminal raw (a control character, a bidi control, a line or
/// paragraph separator); line feeds end lines and are fine.
fn dangerous(c: char) -> bool {
    c != '\n'
        && (c.is_control()
            || matches!(
                c,
                '\u{061C}'
                    | '\u{200E}'
                    | '\u{200F}'
                    | '\u{202A}'..='\u{202E}'
                    | '\u{2066}'..='\u{2069}'
                    | '\u{2028}'
                    | '\u{2029}'
            ))
}

/// Fails unless `out` holds no dangerous character and every command it suggests keeps each
/// `$(` and backquote inside single quotes.
fn shown_safely(what: &str, out: &str) {
    if let Some(c) = out.chars().find(|&c| dangerous(c)) {
        panic!("{what} shows a raw U+{:04X}: {out:?}", c as u32);
    }
    suggested_commands(what, out);
}

/// Where a suggested command starts in a message.
const COMMANDS: &[&str] = &[
    "git config ",
    "git credential-pat ",
    "chmod ",
    "chown ",
    "rm -- ",
    "fuser ",
    "sed ",
];

/// Every command `out` suggests, split into words as a POSIX shell would (single quotes,
/// backslashes); a command ends with its line or with an unquoted `, ` or `; `. Fails on an
/// unquoted `$(` or backquote, which a shell would run.
fn suggested_commands(what: &str, out: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for line in out.lines() {
        for start in COMMANDS
            .iter()
            .flat_map(|c| line.match_indices(c).map(|(i, _)| i))
        {
            found.push(shell_split(what, &line[start..]));
        }
    }
    found
}

/// The words of the command at the start of `s` (see [`suggested_commands`]).
fn shell_split(what: &str, s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            ',' | ';' if matches!(chars.peek(), None | Some(' ')) => {
                if in_word {
                    words.push(word);
                }
                return words;
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        // A quote opened and never closed: prose quoting a constant command.
                        None => return words,
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    word.push(c);
                }
            }
            '$' if chars.peek() == Some(&'(') => {
                panic!("{what} suggests a command with an unquoted $(: {s:?}")
            }
            '`' => panic!("{what} suggests a command with an unquoted backquote: {s:?}"),
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// Whether `out` suggests exactly the command `words`.
fn suggests(out: &str, words: &[&str]) -> bool {
    suggested_commands("", out)
        .iter()
        .any(|c| c.len() >= words.len() && c[..words.len()] == *words)
}

#[test]
fn list_escapes_every_hostile_field() {
    let p = hostile("dlist");
    let (code, out, err) = pat(&p, &["list"], "");
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    for shown in [
        "https://evil\\x1B[2j\\x07.example/acme\\x1B[2J",
        "u\\x07\\u{202E}",
        "https://$(touch /tmp/pwned)/o'brien",
        "it's\\u{2028}",
        "https://h.example/\\u{202E}acme",
    ] {
        assert!(out.contains(shown), "{shown} in {out}");
    }
}

/// `list --json` is valid JSON whose strings decode to exactly the stored bytes.
#[test]
fn list_json_parses_and_decodes_to_the_stored_bytes() {
    let p = hostile("djson");
    let (code, out, err) = pat(&p, &["list", "--json"], "");
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert!(
        out.contains(r#""host": "evil\u001b[2j\u0007.example""#)
            && out.contains(r#""username": "u\u0007\u202e""#)
            && out.contains(r#""username": "it's\u2028""#)
            && out.contains(r#""path": "\u202eacme""#),
        "{out}"
    );
    let script = "import json, sys\n\
        for o in json.load(sys.stdin):\n\
        \x20   print(' '.join('null' if o[k] is None else o[k].encode('utf-8').hex()\n\
        \x20                  for k in ('host', 'path', 'username')))\n";
    let decoded = run(Command::new("python3").args(["-c", script]), out.as_bytes());
    assert!(
        decoded.status.success(),
        "python3 (install it to run this test) cannot parse the JSON: {}\n{out}",
        text(&decoded.stderr)
    );
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    let row = |h: &str, p: &str, u: &str| format!("{} {} {}", hex(h), hex(p), hex(u));
    assert_eq!(
        text(&decoded.stdout).lines().collect::<Vec<_>>(),
        [
            row(SUBST, "o'brien", "it's\u{2028}"),
            row("evil\x1b[2j\x07.example", "acme\x1b[2J", "u\x07\u{202E}"),
            row("h.example", "\u{202E}acme", SUBST),
        ]
    );
}

#[test]
fn doctor_escapes_what_it_shows_and_quotes_what_it_suggests() {
    let p = hostile("ddoctor");
    let (_, out, _) = pat(&p, &["doctor"], "");
    for host in [SUBST, "evil\\x1B[2j\\x07.example"] {
        let key = format!("credential.https://{host}.useHttpPath");
        assert!(
            suggests(&out, &["git", "config", "--global", &key, "true"]),
            "{key} in {out}"
        );
    }
    assert!(
        out.contains(
            "the token for https://$(touch /tmp/pwned)@h.example/\\u{202E}acme expires on"
        ),
        "{out}"
    );
    let hostile_url = "https://u\x07@evil\x1b[2J.example/x\u{202E}";
    let (_, out, _) = pat(&p, &["doctor", hostile_url], "");
    assert!(
        out.contains("https://u\\x07@evil\\x1B[2J.example/x\\u{202E}"),
        "{out}"
    );
}

#[test]
fn doctor_never_repeats_a_token_in_its_argument() {
    let p = hostile("ddoctortoken");
    for url in [format!("https://u:{SECRET}@github.com"), SECRET.to_string()] {
        let (code, out, err) = pat(&p, &["doctor", &url], "");
        assert!(
            !out.contains(SECRET) && !err.contains(SECRET),
            "doctor {url}: {out}{err}"
        );
        assert_eq!(code, 2, "a URL doctor cannot use is a usage error: {err}");
    }
}

#[test]
fn remove_escapes_the_credentials_it_names() {
    let p = hostile("dremove");
    let url = "https://evil\x1b[2J\x07.example/acme\x1b[2J";
    let (code, out, err) = pat(&p, &["remove", url], "");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("removed https://u\\x07\\u{202E}@evil\\x1B[2j\\x07.example/acme\\x1B[2J"),
        "{out}"
    );
    let (code, _, err) = pat(&p, &["remove", url], "");
    assert_eq!(code, 1);
    assert!(
        err.contains("no credential is stored for https://evil\\x1B"),
        "{err}"
    );
    // A host with a slash in it, written percent-encoded.
    let (code, out, err) = pat(
        &p,
        &["remove", "https://$(touch%20%2Ftmp%2Fpwned)/o'brien"],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("removed https://it's\\u{2028}@$(touch /tmp/pwned)/o'brien"),
        "{out}"
    );
}

#[test]
fn add_quotes_the_use_http_path_command_it_suggests() {
    let p = hostile("dadd");
    let (code, out, err) = pat(&p, &["add", "https://u@evil$(id)'x.example/acme"], "t\n");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Stored the token for https://u@evil$(id)'x.example/acme"),
        "{out}"
    );
    let key = "credential.https://evil$(id)'x.example.useHttpPath";
    assert!(
        suggests(&err, &["git", "config", "--global", key, "true"]),
        "{err}"
    );
    // A host no remote can have (control bytes, a space) is refused, and not shown raw.
    let (code, out, err) = pat(
        &p,
        &["add", "https://u@evil%1B[2J%20$(id).example/acme"],
        "t\n",
    );
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert_eq!(
        err,
        "git-credential-pat: add: invalid URL: a space or control character in the host\n"
    );
}

/// The expiry warning of `get` names the command that stores a fresh token, quoted.
#[test]
fn the_expiry_warning_quotes_the_add_command() {
    let p = hostile("dwarn");
    let (code, out, err) = pat(
        &p,
        &["--backend=file", "--file", p.file.to_str().unwrap(), "get"],
        "protocol=https\nhost=h.example\npath=\u{202E}acme\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("password=t3\n"), "{out}");
    assert!(
        suggests(
            &err,
            &[
                "git",
                "credential-pat",
                "add",
                "https://h.example/\\u{202E}acme",
                "--username=$(touch /tmp/pwned)"
            ]
        ),
        "{err}"
    );
}

/// A store in a directory whose name is hostile: messages escape it, and the `chmod` they
/// suggest quotes it.
#[test]
fn a_hostile_store_path_is_escaped_and_quoted() {
    let p = Pat::new("dpath");
    let dir = p.world.root.join("st\x1b[2J\x07'$(touch /tmp/pwned)");
    let file = dir.join("credentials");
    let file_arg = file.to_str().unwrap();
    let args = |cmd: &'static str| vec!["--backend=file", "--file", file_arg, cmd];
    let (code, _, err) = pat(
        &p,
        &args("store"),
        "protocol=https\nhost=h\nusername=u\npassword=t\n",
    );
    assert_eq!(code, 0, "{err}");
    crate::common::set_mode(&file, 0o644);
    for cmd in ["list", "doctor"] {
        let (code, out, err) = pat(&p, &args(cmd), "");
        assert_eq!(code, 1, "{cmd}: {out}{err}");
        let escaped = file_arg.replace('\x1b', "\\x1B").replace('\x07', "\\x07");
        assert!(
            suggests(&format!("{out}{err}"), &["chmod", "600", &escaped]),
            "{cmd}: {out}{err}"
        );
    }
}

/// A token typed as an extra argument is described, never repeated; exit 2.
#[test]
fn an_extra_argument_is_never_repeated() {
    let p = hostile("dextra");
    let file = p.file.to_str().unwrap();
    for args in [
        vec!["add", "https://u@h", SECRET],
        vec!["remove", "https://u@h", SECRET],
        vec!["list", SECRET],
        vec!["prune", SECRET],
        vec!["doctor", "https://h", SECRET],
        vec!["import", "-", SECRET],
        vec!["--backend=file", "--file", file, "get", SECRET],
        vec!["--backend=file", "--file", file, "store", SECRET],
    ] {
        let (code, out, err) = pat(&p, &args, "t\n");
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            !out.contains(SECRET) && !err.contains(SECRET),
            "{args:?} repeats its argument: {err}"
        );
        assert!(
            err.contains("unexpected extra argument (not shown"),
            "{err}"
        );
    }
    let (_, _, err) = pat(&p, &["add", "https://u@h", SECRET], "t\n");
    assert!(
        err.contains("never from the command line")
            && err.contains("usage: git credential-pat add"),
        "{err}"
    );
}
