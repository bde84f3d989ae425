//! What a credential is and which requests reach it (DESIGN.md §2, §4, §5), end to end: the
//! built helper behind real `git credential fill|approve|reject`, on the file backend.
//!
//! A store changes only what would change an answer (no per-repository copies of a host-wide
//! token), an erase reaches exactly the credentials that serve the rejected path and hold the
//! rejected secret, `add`/`remove` reach copies an older version wrote, an expired token with a
//! refresh token is handed on for renewal, no-op writes need no write access, dot segments are
//! resolved before matching, and a TTL is the helper's policy, not the token's expiry.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{World, require_git, set_mode, shell_quote, text, v1_file, write_private};

/// A world whose global git config uses the helper, on a file in the world.
struct Model {
    w: World,
    file: PathBuf,
}

impl Model {
    /// The helper configured with `--backend=file --file=<world>/creds/credentials extra`.
    fn new(name: &str, extra: &str) -> Model {
        Model::at(name, "creds/credentials", extra)
    }

    /// The helper configured on the file `rel` (relative to the world's root).
    fn at(name: &str, rel: &str, extra: &str) -> Model {
        require_git(2, 46);
        let w = World::new(name);
        let file = w.root.join(rel);
        w.use_pat(&format!(
            "--backend=file --file={} {extra}",
            shell_quote(file.to_str().unwrap())
        ));
        Model { w, file }
    }

    fn use_http_path(&self) {
        self.git_ok(
            &["config", "--global", "credential.useHttpPath", "true"],
            "",
        );
    }

    fn git_ok(&self, args: &[&str], input: &str) -> String {
        let out = self.w.run_git(args, input);
        assert!(
            out.status.success(),
            "git {args:?} failed for input\n{input}\nstderr: {}",
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// `git credential approve`; returns git's stderr (which carries the helper's).
    fn approve(&self, input: &str) -> String {
        let out = self.w.run_git(&["credential", "approve"], input);
        assert!(
            out.status.success(),
            "git credential approve failed for\n{input}\n{}",
            text(&out.stderr)
        );
        text(&out.stderr)
    }

    /// `git credential reject`; returns git's stderr (which carries the helper's).
    fn reject(&self, input: &str) -> String {
        let out = self.w.run_git(&["credential", "reject"], input);
        assert!(
            out.status.success(),
            "git credential reject failed for\n{input}\n{}",
            text(&out.stderr)
        );
        text(&out.stderr)
    }

    /// `git credential fill` with prompts disabled: (Some(answer) or None when git found
    /// nothing and wanted to prompt, stderr).
    fn fill_with_stderr(&self, input: &str) -> (Option<String>, String) {
        let out = self.w.run_git(&["credential", "fill"], input);
        let err = text(&out.stderr);
        if out.status.success() {
            (Some(text(&out.stdout)), err)
        } else {
            assert!(
                err.contains("terminal prompts disabled"),
                "git credential fill failed for another reason than 'nothing found':\n{err}"
            );
            (None, err)
        }
    }

    fn fill(&self, input: &str) -> Option<String> {
        self.fill_with_stderr(input).0
    }

    /// The password git's fill ends up with for `input`, if any.
    fn password(&self, input: &str) -> Option<String> {
        self.fill(input).map(|answer| {
            field(&answer, "password")
                .unwrap_or_else(|| panic!("git filled without a password:\n{answer}"))
        })
    }

    /// Runs the helper binary directly on this world's file: (exit code, stdout, stderr).
    fn helper(&self, action: &str, input: &str) -> (i32, String, String) {
        let file = format!("--file={}", self.file.display());
        outcome(self.w.run_helper(&["--backend=file", &file, action], input))
    }

    /// A people's command; its settings come from the git config, as a person's would.
    fn pat(&self, args: &[&str], stdin: &str) -> (i32, String, String) {
        outcome(self.w.run_helper(args, stdin))
    }

    /// `echo TOKEN | git credential-pat add URL`, without asking a forge when `add` can skip
    /// that (a token of a test must not travel to github.com).
    fn add(&self, url: &str, token: &str) {
        let (_, help, _) = self.pat(&["add", "--help"], "");
        let mut args = vec!["add", url];
        if help.contains("--no-verify") {
            args.push("--no-verify");
        }
        let (code, out, err) = self.pat(&args, &format!("{token}\n"));
        assert_eq!(code, 0, "add {url} failed: {out}{err}");
    }

    fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.file).unwrap_or_default()
    }

    /// The credential lines of the file (every line but the header and comments).
    fn records(&self) -> Vec<String> {
        text(&self.bytes())
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect()
    }

    /// Writes the file directly, as an older version (or another process) left it.
    fn write_file(&self, lines: &[&str]) {
        let mut sorted = lines.to_vec();
        sorted.sort();
        assert_eq!(
            sorted, lines,
            "test bug: credential lines must be sorted bytewise"
        );
        write_private(&self.file, v1_file(lines).as_bytes());
    }
}

fn outcome(out: Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

/// The value of `key=` in a protocol answer.
fn field(answer: &str, key: &str) -> Option<String> {
    answer
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_owned))
}

/// The helper's own lines in git's stderr.
fn pat_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("git-credential-pat:"))
        .collect()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn a_host_wide_token_that_served_a_repository_is_not_copied_to_it() {
    let m = Model::new("nocopy", "");
    m.use_http_path();
    m.approve("url=https://octo@github.com\npassword=WIDE\n");
    let served = m
        .fill("url=https://github.com/acme/tool.git\n")
        .expect("a host-wide token serves every repository of its host");
    assert_eq!(
        field(&served, "password").as_deref(),
        Some("WIDE"),
        "{served}"
    );
    assert!(
        served.contains("path=acme/tool.git\n"),
        "test bug: git should keep the path under useHttpPath: {served}"
    );
    // What git does after a successful fetch: approve exactly what fill returned, path included.
    m.approve(&served);
    assert_eq!(
        m.records().len(),
        1,
        "approving what the host-wide token served must not store a per-repository copy \
         (DESIGN §2 store: a store changes only what would change an answer); file:\n{}",
        text(&m.bytes())
    );

    m.add("https://octo@github.com", "NEW");
    assert_eq!(
        m.password("url=https://github.com/acme/tool.git\n")
            .as_deref(),
        Some("NEW"),
        "rotating the host-wide token with add must reach every repository"
    );
    let (code, out, err) = m.pat(&["remove", "https://octo@github.com"], "");
    assert_eq!(code, 0, "remove failed: {out}{err}");
    assert_eq!(
        m.fill("url=https://github.com/acme/tool.git\n"),
        None,
        "after removing the host-wide token no repository of the host may still get one; file:\n{}",
        text(&m.bytes())
    );
}

#[test]
fn add_over_a_host_wide_token_replaces_the_copies_an_older_version_stored() {
    let m = Model::new("addcopies", "");
    m.use_http_path();
    m.write_file(&[
        "https://github.com / @octo stored=1764000000.000000000 password=OLD",
        "https://github.com /acme/tool @octo stored=1764000001.000000000 password=OLD",
    ]);
    assert_eq!(
        m.password("url=https://github.com/acme/tool.git\n")
            .as_deref(),
        Some("OLD"),
        "test bug: the copy should serve acme/tool before the add"
    );
    m.add("https://octo@github.com", "NEW");
    assert_eq!(
        m.password("url=https://github.com/acme/tool.git\n")
            .as_deref(),
        Some("NEW"),
        "add over a key must replace the token of the per-repository copies holding the same \
         token (DESIGN §5 remove/add); file:\n{}",
        text(&m.bytes())
    );
    assert!(
        !text(&m.bytes()).contains("password=OLD"),
        "the old token must be gone from every copy; file:\n{}",
        text(&m.bytes())
    );
}

#[test]
fn remove_takes_the_copies_of_the_same_token_and_leaves_other_tokens() {
    let m = Model::new("removecopies", "");
    m.use_http_path();
    m.write_file(&[
        "https://github.com / @octo stored=1764000000.000000000 password=OLD",
        "https://github.com /acme/tool @octo stored=1764000001.000000000 password=OLD",
        "https://github.com /acme/tool @someone stored=1764000002.000000000 password=OLD",
        "https://github.com /other @octo stored=1764000003.000000000 password=SCOPED",
    ]);
    let (code, out, err) = m.pat(&["remove", "https://octo@github.com"], "");
    assert_eq!(code, 0, "remove failed: {out}{err}");
    assert!(
        out.contains("2 credentials removed"),
        "remove must count the host-wide token and its copy (DESIGN §5 remove): {out}"
    );
    assert_eq!(
        m.fill("url=https://octo@github.com/acme/tool.git\n"),
        None,
        "the per-repository copy of the removed token must be removed too; file:\n{}",
        text(&m.bytes())
    );
    assert_eq!(
        m.password("url=https://octo@github.com/other/x.git\n")
            .as_deref(),
        Some("SCOPED"),
        "a scoped token holding a different token is not a copy and must survive"
    );
    assert_eq!(
        m.password("url=https://someone@github.com/acme/tool.git\n")
            .as_deref(),
        Some("OLD"),
        "another user's credential is not a copy of octo's and must survive"
    );
    assert_eq!(m.records().len(), 2, "file:\n{}", text(&m.bytes()));
}

#[test]
fn a_rejected_scoped_token_leaves_the_scoped_tokens_of_other_paths() {
    let m = Model::new("rejectpath", "");
    m.use_http_path();
    m.approve("url=https://u@dev.azure.com/orgA\npassword=tokA\n");
    m.approve("url=https://u@dev.azure.com/orgB\npassword=tokB\n");
    assert_eq!(m.records().len(), 2, "file:\n{}", text(&m.bytes()));

    // A password that is not the one stored for the path: a stale rejection, nothing goes.
    let before = text(&m.bytes());
    m.reject("url=https://u@dev.azure.com/orgB/proj/_git/repo\npassword=not-tokB\n");
    assert_eq!(
        text(&m.bytes()),
        before,
        "a reject whose password matches nothing must remove nothing"
    );
    m.reject("url=https://u@dev.azure.com/orgA/proj/_git/repo\npassword=tokB\n");
    assert_eq!(
        text(&m.bytes()),
        before,
        "a reject on orgA with orgB's password must remove nothing"
    );

    m.reject("url=https://u@dev.azure.com/orgB/proj/_git/repo\npassword=tokB\n");
    assert_eq!(
        m.fill("url=https://dev.azure.com/orgB/proj/_git/repo\n"),
        None,
        "the rejected scoped token must be erased; file:\n{}",
        text(&m.bytes())
    );
    assert_eq!(
        m.password("url=https://dev.azure.com/orgA/proj/_git/repo\n")
            .as_deref(),
        Some("tokA"),
        "a reject on orgB must leave orgA's token"
    );
}

#[test]
fn a_reject_reaches_the_host_wide_token_that_served_the_path_but_not_tokens_of_other_paths() {
    let m = Model::new("rejectwide", "");
    m.use_http_path();
    m.approve("url=https://u@github.com/acme\npassword=tokAcme\n");
    m.approve("url=https://u@github.com\npassword=tokWide\n");
    assert_eq!(m.records().len(), 2, "file:\n{}", text(&m.bytes()));

    // other/x is served by the host-wide token only: a 401 there says nothing about acme's.
    m.reject("url=https://u@github.com/other/x.git\npassword=tokAcme\n");
    assert_eq!(
        m.password("url=https://github.com/acme/tool.git\n")
            .as_deref(),
        Some("tokAcme"),
        "a reject for other/x must not erase the token scoped to acme, which never serves \
         other/x (DESIGN §2 erase: a 401 on one path never deletes a token that serves other \
         paths only); file:\n{}",
        text(&m.bytes())
    );

    // The host-wide token serves acme/tool too: a reject there with its password reaches it.
    m.reject("url=https://u@github.com/acme/tool.git\npassword=tokWide\n");
    assert_eq!(
        m.fill("url=https://github.com/other/x.git\n"),
        None,
        "a reject for acme/tool with the host-wide token's password must erase it; file:\n{}",
        text(&m.bytes())
    );
    assert_eq!(
        m.password("url=https://github.com/acme/tool.git\n")
            .as_deref(),
        Some("tokAcme"),
        "the scoped token holds another password and stays"
    );
}

/// A generator helper in the manner of git-credential-oauth: on `get` with the refresh token
/// RT1 it answers a fresh token, its expiry and the next refresh token; otherwise nothing.
/// It logs what git sent it, for the failure messages.
fn refreshing_generator(w: &World) -> PathBuf {
    let script = w.root.join("oauth-generator");
    let log = w.root.join("oauth-generator.log");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n\
             [ \"$1\" = get ] || {{ cat >/dev/null; exit 0; }}\n\
             input=$(cat)\n\
             printf '%s\\n--\\n' \"$input\" >>'{log}'\n\
             if printf '%s\\n' \"$input\" | grep -qx 'oauth_refresh_token=RT1'; then\n\
             \x20 printf 'password=fresh-token\\npassword_expiry_utc=%s\\noauth_refresh_token=RT2\\n' $(( $(date +%s) + 3600 ))\n\
             fi\n",
            log = log.display()
        ),
    )
    .unwrap();
    set_mode(&script, 0o755);
    script
}

/// An expired credential with a refresh token, written as the helper stores it.
fn expired_refreshable(m: &Model) -> String {
    let t = now();
    let line = format!(
        "https://h / @u stored={}.000000000 expires={} password=stale oauth_refresh_token=RT1",
        t - 7200,
        t - 60
    );
    m.write_file(&[&line]);
    line
}

#[test]
fn an_expired_token_with_a_refresh_token_is_renewed_by_the_next_helper() {
    let m = Model::new("refresh", "");
    let script = refreshing_generator(&m.w);
    m.w.add_helper(&shell_quote(script.to_str().unwrap()));
    let line = expired_refreshable(&m);
    let before = m.bytes();

    let out =
        m.w.run_git(&["credential", "fill"], "protocol=https\nhost=h\n");
    let (answer, err) = (text(&out.stdout), text(&out.stderr));
    let seen = std::fs::read_to_string(m.w.root.join("oauth-generator.log")).unwrap_or_default();
    assert!(
        out.status.success() && field(&answer, "password").as_deref() == Some("fresh-token"),
        "pat must hand the expired credential's username and refresh token to the next helper, \
         which renews it (DESIGN §4); fill answered:\n{answer}\nstderr:\n{err}\n\
         the generator was sent:\n{seen}"
    );
    assert_eq!(
        field(&answer, "oauth_refresh_token").as_deref(),
        Some("RT2"),
        "{answer}"
    );
    assert!(
        pat_lines(&err).is_empty(),
        "a refreshable expired token is neither evicted nor warned about: {err}"
    );
    assert_eq!(
        text(&m.bytes()),
        text(&before),
        "the expired record stays until git's approve stores the fresh token: {line}"
    );

    m.approve(&answer);
    let records = m.records();
    assert_eq!(records.len(), 1, "{records:?}");
    assert!(
        records[0].contains("password=fresh-token")
            && records[0].contains("oauth_refresh_token=RT2"),
        "the fresh token and its refresh token replace the expired one: {records:?}"
    );
    let (code, got, err) = m.helper("get", "protocol=https\nhost=h\n");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        (field(&got, "username"), field(&got, "password")),
        (Some("u".into()), Some("fresh-token".into())),
        "pat now answers the fresh token itself: {got}"
    );
}

#[test]
fn get_of_an_expired_token_with_a_refresh_token_answers_the_user_and_refresh_token_only() {
    let m = Model::new("refreshget", "");
    expired_refreshable(&m);
    let before = m.bytes();
    let (code, out, err) = m.helper("get", "protocol=https\nhost=h\n");
    assert_eq!(code, 0, "{err}");
    assert!(
        !out.contains("password="),
        "an expired password must never be handed out: {out}"
    );
    assert_eq!(
        out, "username=u\noauth_refresh_token=RT1\n",
        "DESIGN §4: an expired credential with a refresh token answers username and \
         oauth_refresh_token only"
    );
    assert_eq!(err, "", "no eviction notice, no warning");
    assert_eq!(
        text(&m.bytes()),
        text(&before),
        "kept until a store replaces it"
    );
}

#[test]
fn a_token_renewed_by_its_refresh_token_gets_no_expiry_warning() {
    let m = Model::new("refreshwarn", "");
    let soon = now() + 3600;
    m.approve(&format!(
        "protocol=https\nhost=renewed\nusername=u\npassword=t1\npassword_expiry_utc={soon}\noauth_refresh_token=RT\n"
    ));
    m.approve(&format!(
        "protocol=https\nhost=plain\nusername=u\npassword=t2\npassword_expiry_utc={soon}\n"
    ));
    let (answer, err) = m.fill_with_stderr("protocol=https\nhost=renewed\n");
    assert!(
        answer.is_some(),
        "test bug: the renewable token should fill"
    );
    assert!(
        !err.contains("expires"),
        "a token that carries an oauth_refresh_token is renewed by another helper: no warning \
         (DESIGN §4); stderr: {err}"
    );
    let (answer, err) = m.fill_with_stderr("protocol=https\nhost=plain\n");
    assert!(answer.is_some(), "test bug: the plain token should fill");
    assert!(
        err.contains("git-credential-pat:") && err.contains("expires"),
        "a token without a refresh token expiring within --warn (7d) is warned about; stderr: {err}"
    );
}

#[test]
fn no_op_writes_on_an_absent_store_create_nothing() {
    let m = Model::at("absent", "nodir/credentials", "");
    let dir = m.w.root.join("nodir");
    let err = m.reject("protocol=https\nhost=h\nusername=u\npassword=p\n");
    assert!(pat_lines(&err).is_empty(), "reject: {err}");
    assert!(
        !dir.exists(),
        "an erase that removes nothing must create no directory (DESIGN §2: no-op writes need \
         no write access)"
    );
    for (action, input) in [
        ("erase", "protocol=https\nhost=h\nusername=u\npassword=p\n"),
        ("erase", "protocol=https\nhost=h\n"),
        ("store", "protocol=https\nhost=h\nusername=u\n"),
        ("get", "protocol=https\nhost=h\n"),
    ] {
        let (code, out, err) = m.helper(action, input);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (0, "", ""),
            "{action} on an absent store:\n{input}"
        );
        assert!(!dir.exists(), "{action} created {}", dir.display());
    }
}

/// A directory bind-mounted read-only onto itself, unmounted when dropped (even when the test
/// fails).
struct ReadOnly {
    dir: PathBuf,
}

impl ReadOnly {
    fn mount(dir: &Path) -> ReadOnly {
        let out = Command::new("mount")
            .arg("--bind")
            .arg(dir)
            .arg(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "this test bind-mounts a directory and must run as root (CI does): {}",
            text(&out.stderr)
        );
        let guard = ReadOnly {
            dir: dir.to_path_buf(),
        };
        let out = Command::new("mount")
            .args(["-o", "remount,bind,ro"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "remount read-only failed: {}",
            text(&out.stderr)
        );
        guard
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

#[test]
fn no_op_writes_on_a_read_only_store_succeed_silently() {
    let m = Model::new("readonly", "");
    m.approve(
        "protocol=https\nhost=h\nusername=u\npassword=t\npassword_expiry_utc=4000000000\noauth_refresh_token=rt\n",
    );
    let before = m.bytes();
    let _ro = ReadOnly::mount(m.file.parent().unwrap());

    let answer = m
        .fill("protocol=https\nhost=h\n")
        .expect("reads need no write access");
    let err = m.approve(&answer);
    assert_eq!(
        err, "",
        "approving exactly what fill returned changes nothing, so it needs no write access \
         (DESIGN §2)"
    );
    let (code, _, err) = m.helper("store", &answer);
    assert_eq!(
        (code, err.as_str()),
        (0, ""),
        "store of the same credential"
    );

    let stale = "protocol=https\nhost=h\nusername=u\npassword=not-t\n";
    let err = m.reject(stale);
    assert_eq!(err, "", "a reject whose password matches nothing is silent");
    let (code, _, err) = m.helper("erase", stale);
    assert_eq!((code, err.as_str()), (0, ""), "erase that matches nothing");
    let (code, _, err) = m.helper("erase", "protocol=https\nhost=other\n");
    assert_eq!(
        (code, err.as_str()),
        (0, ""),
        "erase on a host with nothing"
    );

    assert_eq!(
        text(&m.bytes()),
        text(&before),
        "the file is byte for byte the same"
    );
}

#[test]
fn dot_segments_are_resolved_and_a_path_above_the_root_fails_closed() {
    let m = Model::new("dots", "");
    m.use_http_path();
    m.approve("url=https://u@h/acme\npassword=tokA\n");
    m.approve("url=https://u@h\npassword=tokW\n");
    assert_eq!(m.records().len(), 2, "file:\n{}", text(&m.bytes()));
    for (path, want) in [
        ("acme/tool", "tokA"),
        ("acme/../other/x", "tokW"),
        ("other/../acme/tool", "tokA"),
        ("acme/./tool", "tokA"),
        ("./acme/tool", "tokA"),
        ("../acme/tool", "tokW"),
        ("a/../../acme", "tokW"),
        ("acme/../../acme/tool", "tokW"),
    ] {
        assert_eq!(
            m.password(&format!("protocol=https\nhost=h\npath={path}\n"))
                .as_deref(),
            Some(want),
            "path {path}: dot segments are resolved before matching, and a path above the root \
             matches host-wide credentials only (DESIGN §2)"
        );
    }
    let before = m.bytes();
    m.approve("protocol=https\nhost=h\npath=../acme\nusername=u\npassword=tokNew\n");
    assert_eq!(
        text(&m.bytes()),
        text(&before),
        "a store with a path above the root stores nothing"
    );
}

#[test]
fn a_ttl_is_not_handed_to_git_as_the_tokens_expiry() {
    let m = Model::new("ttlpolicy", "--ttl=1h");
    m.approve("protocol=https\nhost=h\nusername=u\npassword=t\n");
    let answer = m
        .fill("protocol=https\nhost=h\n")
        .expect("stored an hour ago at most");
    assert_eq!(field(&answer, "password").as_deref(), Some("t"), "{answer}");
    assert!(
        !answer.contains("password_expiry_utc"),
        "the TTL is the helper's policy, not the token's expiry: get must not hand git a \
         password_expiry_utc made from it (DESIGN §4):\n{answer}"
    );
}

#[test]
fn a_credential_lapsing_by_its_ttl_is_forgotten_silently() {
    let m = Model::new("ttllapse", "--ttl=2");
    m.approve("protocol=https\nhost=h\nusername=u\npassword=t\n");
    assert_eq!(
        m.records().len(),
        1,
        "test bug: the credential should be stored; file:\n{}",
        text(&m.bytes())
    );
    std::thread::sleep(std::time::Duration::from_secs(3));
    let (answer, err) = m.fill_with_stderr("protocol=https\nhost=h\n");
    assert_eq!(answer, None, "the TTL has passed: git must ask");
    assert!(
        pat_lines(&err).is_empty(),
        "a TTL lapse is silent, as git-credential-cache's timeout (DESIGN §4): {err}"
    );
}
