use std::path::{Path, PathBuf};

use crate::common::{BIN, World, run, set_mode, shell_quote, text, v1_file, write_private};

const TOKEN: &str = "ghp_PEOPLE_secret_4242";

/// A world with pat configured as git's helper on a file, as install.sh would.
struct Setup {
    w: World,
    file: PathBuf,
}

impl Setup {
    fn new(name: &str) -> Setup {
        crate::common::require_git(2, 46);
        let w = World::new(name);
        let file = w.root.join("store/credentials");
        w.use_pat(&format!(
            "--backend=file --file={}",
            shell_quote(file.to_str().unwrap())
        ));
        Setup { w, file }
    }

    /// Runs a people's command; (code, stdout, stderr).
    fn pat(&self, args: &[&str], stdin: &str) -> (i32, String, String) {
        let out = self.w.run_helper(args, stdin);
        (
            out.status.code().unwrap_or(-1),
            text(&out.stdout),
            text(&out.stderr),
        )
    }

    fn ok(&self, args: &[&str], stdin: &str) -> String {
        let (code, out, err) = self.pat(args, stdin);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(
            !out.contains(TOKEN) && !err.contains(TOKEN),
            "token shown by {args:?}"
        );
        out
    }

    fn fill(&self, input: &str) -> String {
        let out = self.w.run_git(&["credential", "fill"], input);
        assert!(out.status.success(), "fill: {}", text(&out.stderr));
        text(&out.stdout)
    }

    /// Runs the helper on a pseudo-terminal, typing `answers` at its prompts.
    fn on_terminal(&self, args: &[&str], answers: &str, env: &[(&str, &str)]) -> (i32, String) {
        let answers_file = self.w.root.join("answers");
        std::fs::write(&answers_file, answers).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/pty_run.py");
        let mut cmd = self.w.command("python3");
        cmd.arg(script)
            .arg(&answers_file)
            .arg("--")
            .arg(BIN)
            .args(args)
            .env_remove("GIT_TERMINAL_PROMPT");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = run(&mut cmd, b"");
        (out.status.code().unwrap_or(-1), text(&out.stdout))
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn add_then_git_fill_returns_the_token() {
    let s = Setup::new("add");
    let out = s.ok(
        &["add", "https://octocat@github.com"],
        &format!("{TOKEN}\n"),
    );
    assert_eq!(
        out,
        "Stored the token for https://octocat@github.com in the file store (no known expiry).\n"
    );
    assert!(
        s.fill("protocol=https\nhost=github.com\n")
            .ends_with(&format!("username=octocat\npassword={TOKEN}\n"))
    );
    // Rotation: adding over the key replaces the token.
    s.ok(
        &["add", "https://github.com", "--username=octocat"],
        "ghp_rotated\n",
    );
    assert!(
        s.fill("protocol=https\nhost=github.com\n")
            .ends_with("password=ghp_rotated\n")
    );
    assert_eq!(std::fs::read_to_string(&s.file).unwrap().lines().count(), 2);
}

#[test]
fn add_keeps_host_and_port_as_written_and_takes_expiry() {
    let s = Setup::new("addexp");
    s.ok(
        &[
            "add",
            "https://me@GitLab.example.com:8443",
            "--expires=2099-12-31",
        ],
        "t1\n",
    );
    let got = s.fill("protocol=https\nhost=gitlab.example.com:8443\n");
    assert!(
        got.contains("password_expiry_utc=4102444799\n"),
        "end of that day, UTC: {got}"
    );
    let t0 = now();
    s.ok(&["add", "https://me@h", "--expires-in", "2w"], "t2\n");
    let json = s.ok(&["list", "--json"], "");
    let e: u64 = json
        .split("\"expires_utc\": ")
        .nth(2)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (t0 + 14 * 86_400..=now() + 14 * 86_400).contains(&e),
        "{json}"
    );
    s.ok(
        &[
            "add",
            "https://me@rfc",
            "--expires",
            "2099-01-01T10:00:00+02:00",
        ],
        "t3\n",
    );
    assert!(
        s.fill("protocol=https\nhost=rfc\n")
            .contains("password_expiry_utc=4070937600\n")
    );
}

#[test]
fn add_refuses_bad_input_with_usage_errors() {
    let s = Setup::new("addbad");
    for (args, stdin, expect) in [
        (vec!["add", "https://a@h", "--username=b"], "t\n", "differ"),
        (vec!["add", "https://h"], "t\n", "no username"),
        (
            vec!["add", "https://u@h", "--expires=2001-01-01"],
            "t\n",
            "in the past",
        ),
        (
            vec!["add", "https://u@h", "--expires=tomorrow"],
            "t\n",
            "invalid --expires",
        ),
        (
            vec![
                "add",
                "https://u@h",
                "--expires=2099-01-01",
                "--expires-in=1d",
            ],
            "t\n",
            "not both",
        ),
        (
            vec!["add", "https://u:ghp_PEOPLE_secret_4242@h"],
            "",
            "never put a token on the command line",
        ),
        (vec!["add", "github.com"], "t\n", "invalid URL"),
        (vec!["add", "https://u@h"], "", "no token"),
        (
            vec!["add", "https://u@h"],
            "bad\x1b[2Jtoken\n",
            "control character",
        ),
        (
            vec!["add", "https://u@h"],
            "tokA\ntokB\n",
            "more than one line",
        ),
        (
            vec!["add", "https://u@h"],
            "  tok C  \n",
            "starts or ends with a space or tab",
        ),
        (vec!["add"], "", "missing argument"),
        (
            vec!["add", "https://u@h", "--bogus"],
            "t\n",
            "unknown option '--bogus'",
        ),
    ] {
        let (code, out, err) = s.pat(&args, stdin);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(out, "");
        assert!(
            err.contains(expect) && err.lines().count() == 1,
            "{args:?}: {err:?}"
        );
        assert!(!err.contains(TOKEN), "{err}");
    }
    assert!(!s.file.exists(), "nothing stored");
}

#[test]
fn add_prompts_at_a_terminal_without_echoing_the_token() {
    let s = Setup::new("addtty");
    let (code, shown) = s.on_terminal(
        &["add", "https://github.com"],
        &format!("octocat\n{TOKEN}\n"),
        &[],
    );
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains("Username for 'https://github.com': octocat"),
        "{shown}"
    );
    assert!(
        shown.contains("Token for 'https://octocat@github.com': "),
        "{shown}"
    );
    assert!(!shown.contains(TOKEN), "the token was echoed: {shown}");
    assert!(
        s.fill("protocol=https\nhost=github.com\n")
            .ends_with(&format!("password={TOKEN}\n"))
    );
    // With terminal prompts disabled, nothing is asked.
    let (code, shown) = s.on_terminal(
        &["add", "https://other.example"],
        "u\nt\n",
        &[("GIT_TERMINAL_PROMPT", "0")],
    );
    assert_eq!(code, 2, "{shown}");
    assert!(shown.contains("no username"), "{shown}");
}

#[test]
fn a_scoped_token_gets_the_use_http_path_hint_until_it_is_set() {
    let s = Setup::new("hint");
    let (code, _, err) = s.pat(&["add", "https://u@github.com/acme"], "t\n");
    assert_eq!(code, 0);
    assert_eq!(
        err,
        "git-credential-pat: hint: git sends the repository path to credential helpers only with useHttpPath; without it this scoped token is never used. Run: git config --global credential.https://github.com.useHttpPath true\n"
    );
    let out = s.w.run_git(
        &[
            "config",
            "--global",
            "credential.https://github.com.useHttpPath",
            "true",
        ],
        "",
    );
    assert!(out.status.success());
    let (_, _, err) = s.pat(&["add", "https://u@github.com/umbrella"], "t\n");
    assert_eq!(err, "");
    assert!(
        s.fill("url=https://github.com/umbrella/x.git\n")
            .ends_with("password=t\n")
    );
}

#[test]
fn list_shows_an_aligned_sorted_table_and_never_a_token() {
    let s = Setup::new("list");
    s.ok(&["add", "https://zed@github.com"], &format!("{TOKEN}\n"));
    s.ok(
        &["add", "https://amy@github.com/acme", "--expires-in=60h"],
        &format!("{TOKEN}2\n"),
    );
    s.ok(&["add", "https://bob@gitlab.com"], &format!("{TOKEN}3\n"));
    let out = s.ok(&["list"], "");
    let today = crate::common::run(
        std::process::Command::new("date").args(["-u", "+%Y-%m-%d"]),
        b"",
    );
    let today = text(&today.stdout).trim().to_string();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(
        lines[0],
        "URL                      USERNAME  BACKEND  EXPIRES                 STORED"
    );
    assert_eq!(
        lines[1],
        format!("https://github.com       zed       file     unknown                 {today}")
    );
    assert!(
        lines[2].starts_with("https://github.com/acme  amy       file     ")
            && lines[2].contains("(in 2 days)"),
        "{out}"
    );
    assert!(
        lines[3].starts_with("https://gitlab.com       bob"),
        "{out}"
    );
}

#[test]
fn list_json_has_exactly_the_documented_keys() {
    let s = Setup::new("json");
    assert_eq!(s.ok(&["list", "--json"], ""), "[]\n");
    s.ok(
        &[
            "add",
            "https://octo@github.com/acme",
            "--expires=2099-12-31",
        ],
        &format!("{TOKEN}\n"),
    );
    s.ok(&["add", "https://octo@example.com:8443"], "t\n");
    let out = s.ok(&["list", "--json"], "");
    let check = "import json,sys; a=json.load(sys.stdin); print(json.dumps([sorted(o) for o in a])); print(json.dumps(a[0], sort_keys=True)); print(a[1]['path'], a[1]['expires_utc'], type(a[1]['stored_utc']).__name__)";
    let parsed = run(
        std::process::Command::new("python3").args(["-c", check]),
        out.as_bytes(),
    );
    assert!(
        parsed.status.success(),
        "not JSON: {out}\n{}",
        text(&parsed.stderr)
    );
    let keys = r#"["backend", "expires_utc", "host", "login", "path", "protocol", "scopes", "stored_utc", "username", "verified_utc"]"#;
    let lines: Vec<String> = text(&parsed.stdout).lines().map(String::from).collect();
    assert_eq!(lines[0], format!("[{keys}, {keys}]"));
    assert!(lines[1].starts_with(r#"{"backend": "file", "expires_utc": null, "host": "example.com:8443", "login": null, "path": null, "protocol": "https", "scopes": null, "stored_utc": "#), "{}", lines[1]);
    assert!(
        lines[1].ends_with(r#", "username": "octo", "verified_utc": null}"#),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], "acme 4102444799 int");
}

#[test]
fn list_escapes_control_characters_from_hostile_urls() {
    let s = Setup::new("listesc");
    let out = s.w.run_git(
        &["credential", "approve"],
        "protocol=https\nhost=evil\x1b[2J.example\nusername=u\x07\npassword=t\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = s.ok(&["list"], "");
    assert!(
        !table.contains('\x1b') && !table.contains('\x07'),
        "{table:?}"
    );
    assert!(
        table.contains("https://evil\\x1B[2j.example") && table.contains("u\\x07"),
        "{table}"
    );
    let json = s.ok(&["list", "--json"], "");
    assert!(
        json.contains(r#""host": "evil\u001b[2j.example""#),
        "{json}"
    );
}

#[test]
fn list_colours_only_at_a_terminal_and_respects_no_color() {
    let s = Setup::new("colour");
    let line = "https://old / @u stored=1700000000.000000000 expires=1700000001 password=x";
    write_private(&s.file, v1_file(&[line]).as_bytes());
    let (_, shown) = s.on_terminal(&["list"], "", &[]);
    assert!(
        shown.contains("\x1b[31m2023-11-14 (expired)\x1b[0m"),
        "{shown:?}"
    );
    let (_, shown) = s.on_terminal(&["list"], "", &[("NO_COLOR", "1")]);
    assert!(
        shown.contains("2023-11-14 (expired)") && !shown.contains('\x1b'),
        "{shown:?}"
    );
    assert!(
        !s.ok(&["list"], "").contains('\x1b'),
        "no colour into a pipe"
    );
}

#[test]
fn remove_takes_exactly_the_key_and_counts() {
    let s = Setup::new("remove");
    s.ok(&["add", "https://a@github.com"], "1\n");
    s.ok(&["add", "https://b@github.com"], "2\n");
    s.ok(&["add", "https://a@github.com/acme"], "3\n");
    let (code, out, _) = s.pat(&["remove", "https://github.com", "--username=a"], "");
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "removed https://a@github.com (file)\n1 credential removed\n"
        )
    );
    let (code, out, _) = s.pat(&["remove", "https://github.com"], "");
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "removed https://b@github.com (file)\n1 credential removed\n"
        ),
        "scoped one stays"
    );
    let (code, out, err) = s.pat(&["remove", "https://github.com"], "");
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(
        err,
        "git-credential-pat: no credential is stored for https://github.com (git credential-pat list shows what is)\n"
    );
    let (code, _, _) = s.pat(&["remove", "https://a@github.com/acme/"], "");
    assert_eq!(code, 0);
    assert_eq!(s.ok(&["list", "--json"], ""), "[]\n");
}

#[test]
fn prune_evicts_every_expired_credential_and_lists_them() {
    let s = Setup::new("prune");
    let body = v1_file(&[
        "https://a / @u stored=1700000000.000000000 expires=1700000001 password=x",
        "https://b / @u stored=1700000000.000000000 expires=4102444799 password=y",
        "https://c /p @v stored=1700000000.000000000 expires=1700003600 password=z",
    ]);
    write_private(&s.file, body.as_bytes());
    let out = s.ok(&["prune"], "");
    assert_eq!(
        out,
        "removed https://u@a (file, expired 2023-11-14 22:13 UTC)\nremoved https://v@c/p (file, expired 2023-11-14 23:13 UTC)\n2 expired credentials removed\n"
    );
    assert_eq!(s.ok(&["prune"], ""), "0 expired credentials removed\n");
    assert!(
        std::fs::read_to_string(&s.file)
            .unwrap()
            .contains("https://b / @u")
    );
}

#[test]
fn import_reads_git_credential_store_files() {
    let s = Setup::new("import");
    let home_file = s.w.home.join(".git-credentials");
    std::fs::write(&home_file, "https://octo%40corp:ghp%2Fa%3Ab@github.com\nhttps://nouser.example\n\nhttps://u:p@gitlab.com/group/proj.git\nhttps://dup:first@dup.example\n").unwrap();
    let xdg = s.w.home.join(".config/git");
    std::fs::create_dir_all(&xdg).unwrap();
    std::fs::write(
        xdg.join("credentials"),
        "https://dup:second@dup.example\nhttp://x:y@plain.example:8080\n",
    )
    .unwrap();
    let (code, out, err) = s.pat(&["import"], "");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("4 credentials imported (4 new, 0 updated), 0 already stored, from"),
        "{out}"
    );
    // Written with the default umask, the sources were readable by others.
    assert!(
        err.contains(".git-credentials was readable by others (mode 0644)")
            && err.contains("revoke and replace them"),
        "{err}"
    );
    // Importing the same files again imports nothing new.
    let (_, again, _) = s.pat(&["import"], "");
    assert!(
        again.contains("0 credentials imported (0 new, 0 updated), 4 already stored"),
        "{again}"
    );
    assert!(
        out.contains("skipped 1 line without a user or password:")
            && out.contains(".git-credentials line 2"),
        "{out}"
    );
    assert!(
        s.fill("protocol=https\nhost=github.com\n")
            .ends_with("username=octo@corp\npassword=ghp/a:b\n")
    );
    assert!(
        s.fill("protocol=https\nhost=dup.example\n")
            .ends_with("username=dup\npassword=first\n"),
        "first file wins"
    );
    assert!(
        s.fill("protocol=http\nhost=plain.example:8080\n")
            .ends_with("password=y\n")
    );
    let json = s.ok(&["list", "--json"], "");
    assert!(
        json.contains(r#""host": "gitlab.com", "path": "group/proj""#),
        "{json}"
    );
    assert!(home_file.exists(), "sources stay without --remove-source");
    // Import again from stdin, overwriting a key.
    s.ok(&["import", "-"], "https://octo%40corp:newer@github.com\n");
    assert!(
        s.fill("protocol=https\nhost=github.com\n")
            .ends_with("password=newer\n")
    );
}

#[test]
fn a_malformed_import_line_aborts_before_anything_is_stored() {
    let s = Setup::new("importbad");
    let f = s.w.root.join("creds.txt");
    std::fs::write(
        &f,
        format!("https://u:{TOKEN}@good.example\nnot a url {TOKEN}\n"),
    )
    .unwrap();
    let (code, out, err) = s.pat(&["import", f.to_str().unwrap(), "--remove-source"], "");
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(
        err,
        format!(
            "git-credential-pat: import: {} line 2 is malformed (not a URL (no scheme://)); nothing was imported\n",
            f.display()
        )
    );
    assert!(
        !s.file.exists() && f.exists(),
        "nothing stored, source kept"
    );
    std::fs::write(&f, format!("https://u:{TOKEN}@good.example\n")).unwrap();
    let out = s.ok(&["import", f.to_str().unwrap(), "--remove-source"], "");
    assert!(
        out.ends_with(&format!("removed {}\n", f.display())),
        "{out}"
    );
    assert!(!f.exists());
    assert!(
        s.fill("protocol=https\nhost=good.example\n")
            .ends_with(&format!("password={TOKEN}\n"))
    );
}

/// Two lines for one key with different tokens: the first is imported (git-credential-store
/// answers with it), the second is named, and --remove-source keeps the file it is in. An
/// identical repeat is nothing to report.
#[test]
fn an_import_line_shadowed_by_an_earlier_one_is_named_and_its_file_kept() {
    let s = Setup::new("importdup");
    let f = s.w.root.join("creds.txt");
    std::fs::write(
        &f,
        "https://alice:tokA@git.example.com\nhttps://alice:tokB@git.example.com\nhttps://alice:tokA@git.example.com\n",
    )
    .unwrap();
    crate::common::set_mode(&f, 0o600);
    let (code, out, err) = s.pat(&["import", f.to_str().unwrap(), "--remove-source"], "");
    assert_eq!(code, 1, "{err}");
    assert!(
        out.contains(&format!("skipped 1 line that gave a key an earlier line already gave, with another token (git-credential-store answers with the first, so the first was imported): {} line 2\n", f.display())),
        "{out}"
    );
    assert!(!out.contains("tokB") && !err.contains("tokB"), "{out}{err}");
    assert_eq!(
        err,
        format!(
            "git-credential-pat: kept {}: 1 line holds a token that was not imported (listed above); remove it yourself once you have checked them\n",
            f.display()
        )
    );
    assert!(f.exists(), "the file holding tokB stays");
    assert!(
        s.fill("protocol=https\nhost=git.example.com\n")
            .ends_with("password=tokA\n")
    );
}

#[test]
fn people_commands_use_the_store_git_uses() {
    // No --file on the command line: it comes from the credential.helper entry.
    let s = Setup::new("helperopts");
    s.ok(&["add", "https://u@h"], "t\n");
    assert!(
        s.file.exists(),
        "stored in the helper's --file, not the default"
    );
    assert!(!s.w.default_file().exists());
    // The environment beats the helper entry; the command line beats both.
    let other = s.w.root.join("other/credentials");
    let out = crate::common::run(
        s.w.helper()
            .env("GIT_CREDENTIAL_PAT_FILE", &other)
            .args(["list", "--json"]),
        b"",
    );
    assert_eq!(text(&out.stdout), "[]\n");
    let out = crate::common::run(
        s.w.helper().env("GIT_CREDENTIAL_PAT_FILE", &other).args([
            "list",
            "--json",
            "--file",
            s.file.to_str().unwrap(),
        ]),
        b"",
    );
    assert!(text(&out.stdout).contains("\"host\": \"h\""));
}

#[test]
fn a_helper_entry_that_needs_a_shell_is_named_and_skipped() {
    let w = World::new("shellhelper");
    w.add_helper("pat --file=$HOME/elsewhere");
    let out = w.run_helper(&["list", "--json"], "");
    assert_eq!(text(&out.stdout), "[]\n");
    assert_eq!(
        text(&out.stderr),
        "git-credential-pat: note: skipping credential.helper 'pat --file=$HOME/elsewhere': it needs a shell to read\n"
    );
}

#[test]
fn doctor_passes_a_clean_setup() {
    let s = Setup::new("doctorok");
    s.ok(&["add", "https://u@github.com"], "t\n");
    let (code, out, _) = s.pat(&["doctor"], "");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("ok      the file store is readable and private (1 credential)"),
        "{out}"
    );
    assert!(
        out.contains("ok      pat is the first helper git asks for https://github.com"),
        "{out}"
    );
    assert!(out.ends_with("no problems found\n"), "{out}");
}

#[test]
fn doctor_fails_on_a_loose_file() {
    let s = Setup::new("doctorloose");
    s.ok(&["add", "https://u@github.com"], "t\n");
    set_mode(&s.file, 0o644);
    let (code, out, _) = s.pat(&["doctor"], "");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("problem {} is accessible by group or others (mode 0644); refusing to use it: run chmod 600 {},", s.file.display(), s.file.display())), "{out}");
}

#[test]
fn doctor_fails_on_a_store_helper_after_pat() {
    let s = Setup::new("doctorstore");
    s.w.add_helper("store");
    s.w.add_helper("cache --timeout=60");
    let (code, out, _) = s.pat(&["doctor", "https://github.com"], "");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("problem for https://github.com a 'store' helper comes after pat"),
        "{out}"
    );
    assert!(
        out.contains("note    for https://github.com a 'cache' helper comes after pat"),
        "{out}"
    );
}

#[test]
fn doctor_fails_when_pat_is_missing_or_not_first() {
    let w = World::new("doctorcfg");
    let out = w.run_helper(&["doctor", "https://example.com"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("problem pat is not configured for https://example.com"),
        "{}",
        text(&out.stdout)
    );
    w.add_helper("osxkeychain");
    w.add_helper("pat");
    let out = w.run_helper(&["doctor", "https://example.com"], "");
    assert!(
        text(&out.stdout)
            .contains("problem for https://example.com git asks 'osxkeychain' before pat"),
        "{}",
        text(&out.stdout)
    );
    // A URL-specific reset puts pat first for that host only.
    let cfg = w.home.join(".gitconfig");
    let mut c = std::fs::read_to_string(&cfg).unwrap();
    c.push_str("[credential \"https://example.com\"]\n\thelper =\n\thelper = pat\n");
    std::fs::write(&cfg, c).unwrap();
    let out = w.run_helper(&["doctor", "https://example.com"], "");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = w.run_helper(&["doctor", "https://other.example"], "");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn doctor_reports_expired_tokens_and_scoped_tokens_without_paths() {
    let s = Setup::new("doctorexp");
    s.ok(&["add", "https://u@github.com/acme"], "t\n");
    let mut body = std::fs::read_to_string(&s.file).unwrap();
    body.push_str(
        "https://old.example / @u stored=1700000000.000000000 expires=1700000001 password=x\n",
    );
    std::fs::write(&s.file, body).unwrap();
    let (code, out, _) = s.pat(&["doctor"], "");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("problem 1 expired token not yet pruned (https://u@old.example)"),
        "{out}"
    );
    assert!(
        out.contains("problem the scoped token for https://u@github.com/acme is never used"),
        "{out}"
    );
    assert!(out.ends_with("2 problems found\n"), "{out}");
}

#[test]
fn doctor_url_says_which_token_git_gets_and_why() {
    let s = Setup::new("doctorwhich");
    s.ok(&["add", "https://octo@github.com"], "t1\n");
    let (_, out, _) = s.pat(&["doctor", "https://github.com/acme/tool.git"], "");
    assert!(
        out.contains("ok      for https://github.com/acme/tool.git git gets the token stored for https://octo@github.com (file store, no known expiry, stored "),
        "{out}"
    );
    assert!(
        out.contains("git sends no path here: credential.useHttpPath is off"),
        "{out}"
    );
    // A second account on the host: a remote without a user may switch to it.
    s.ok(&["add", "https://hubot@github.com"], "t2\n");
    let (_, out, _) = s.pat(&["doctor", "https://github.com/acme/tool.git"], "");
    assert!(
        out.contains("git gets the token stored for https://hubot@github.com"),
        "{out}"
    );
    assert!(
        out.contains("2 accounts have tokens for https://github.com/acme/tool.git"),
        "{out}"
    );
    let (_, out, _) = s.pat(&["doctor", "https://octo@github.com/acme/tool.git"], "");
    assert!(
        out.contains("git gets the token stored for https://octo@github.com "),
        "{out}"
    );
    assert!(!out.contains("accounts have tokens"), "{out}");
    // A scoped token with useHttpPath on.
    s.w.run_git(
        &[
            "config",
            "--global",
            "credential.https://github.com.useHttpPath",
            "true",
        ],
        "",
    );
    s.ok(&["add", "https://octo@github.com/acme"], "t3\n");
    let (_, out, _) = s.pat(&["doctor", "https://octo@github.com/acme/tool.git"], "");
    assert!(
        out.contains("git gets the token stored for https://octo@github.com/acme (file store")
            && out.contains("the longest stored path that serves this URL"),
        "{out}"
    );
    let (_, out, _) = s.pat(&["doctor", "https://nobody.example"], "");
    assert!(
        out.contains("for https://nobody.example no stored credential matches"),
        "{out}"
    );
    // git fills a URL without a user from credential.username: doctor asks as git does, and
    // names the token git really gets (the newer hubot token would serve a request without
    // a user).
    s.w.run_git(
        &[
            "config",
            "--global",
            "credential.https://github.com.username",
            "octo",
        ],
        "",
    );
    let (_, out, _) = s.pat(&["doctor", "https://github.com/other.git"], "");
    assert!(
        out.contains("ok      for https://github.com/other.git (user octo, from git config credential.username) git gets the token stored for https://octo@github.com (file store"),
        "{out}"
    );
    assert!(!out.contains("accounts have tokens"), "{out}");
    let fill = s.w.run_git(
        &["credential", "fill"],
        "url=https://github.com/other.git\n",
    );
    assert!(
        text(&fill.stdout).contains("username=octo\npassword=t1\n"),
        "git gets what doctor said: {}",
        text(&fill.stdout)
    );
}

#[test]
fn doctor_flags_a_helper_value_git_cannot_run() {
    let w = World::new("doctorquoted");
    let file = w.root.join("store/credentials");
    // A quoted absolute path: git runs 'git credential-'"'"'/...'"'"' and fails.
    w.add_helper("");
    w.add_helper(&format!(
        "'{}' --backend=file --file={}",
        crate::common::BIN,
        shell_quote(file.to_str().unwrap())
    ));
    let out = w.run_helper(&["doctor", "https://example.com"], "");
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("names pat, but git cannot run it"),
        "{shown}"
    );
}

#[test]
fn every_command_has_help_and_the_tool_a_version() {
    let w = World::new("help");
    for cmd in [
        "add", "list", "remove", "prune", "import", "doctor", "verify", "rotate",
    ] {
        let out = w.run_helper(&[cmd, "--help"], "");
        assert_eq!(out.status.code(), Some(0));
        assert!(
            text(&out.stdout).starts_with(&format!("usage: git credential-pat {cmd}")),
            "{}",
            text(&out.stdout)
        );
    }
    let out = w.run_helper(&["--help"], "");
    assert!(text(&out.stdout).starts_with("usage: git-credential-pat [OPTIONS] <get|store|erase>"));
    let out = w.run_helper(&["--version"], "");
    assert_eq!(
        text(&out.stdout),
        format!("git-credential-pat {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn a_mistyped_command_at_a_terminal_gets_usage_but_git_gets_silence() {
    let s = Setup::new("typo");
    let (code, shown) = s.on_terminal(&["lsit"], "", &[]);
    assert_eq!(code, 2, "{shown}");
    assert!(
        shown.contains(
            "git-credential-pat: unknown command 'lsit'; did you mean 'list'? (see git credential-pat --help)"
        ),
        "{shown}"
    );
    let (code, out, err) = s.pat(&["lsit"], "protocol=https\nhost=h\n");
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
}

#[test]
fn a_typo_with_arguments_is_a_usage_error_even_without_a_terminal() {
    let s = Setup::new("typoargs");
    let (code, out, err) = s.pat(&["ad", "https://u@h"], "ghp_piped_token\n");
    assert_eq!(code, 2, "{err}");
    assert_eq!(out, "");
    assert!(
        err.contains("unknown command 'ad'; did you mean 'add'?"),
        "{err}"
    );
    assert!(!err.contains("ghp_piped_token"));
    let (code, _, err) = s.pat(&["frobnicate", "x"], "");
    assert_eq!(code, 2);
    assert!(
        err.contains("the commands are get, store, erase, add"),
        "{err}"
    );
}

#[test]
fn git_actions_answer_help() {
    let s = Setup::new("gethelp");
    for action in ["get", "store", "erase"] {
        let (code, out, err) = s.pat(&[action, "--help"], "");
        assert_eq!(code, 0, "{err}");
        assert!(
            out.starts_with(&format!("usage: git-credential-pat [OPTIONS] {action}\n")),
            "{out}"
        );
    }
}

#[test]
fn a_closed_output_pipe_ends_list_quietly() {
    let s = Setup::new("epipe");
    // Enough rows to overflow a pipe buffer, so the write really fails.
    let lines: Vec<String> = (0..1500)
        .map(|i| format!("https://h{i:04}.example / @u stored=1700000000.000000000 password=t"))
        .collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    write_private(&s.file, v1_file(&lines).as_bytes());
    let mut child =
        s.w.helper()
            .arg("list")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
    let mut first = [0u8; 16];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "", "no 'Broken pipe' message");
}
