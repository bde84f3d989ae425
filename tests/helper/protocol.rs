use crate::common::{World, text};
use std::os::unix::fs::MetadataExt;

/// A world with the helper on the file backend at `file`.
pub struct Pat {
    pub world: World,
    pub file: std::path::PathBuf,
}

impl Pat {
    pub fn new(name: &str) -> Pat {
        let world = World::new(name);
        let file = world.root.join("store/credentials");
        Pat { world, file }
    }

    pub fn args<'a>(&'a self, action: &'a str) -> Vec<&'a str> {
        vec![
            "--backend=file",
            "--file",
            self.file.to_str().unwrap(),
            action,
        ]
    }

    /// Runs an action, returning (exit code, stdout, stderr).
    pub fn run(&self, action: &str, input: &str) -> (i32, String, String) {
        self.run_with(&[], action, input)
    }

    /// Runs an action with `extra` options before the usual ones.
    pub fn run_with(&self, extra: &[&str], action: &str, input: &str) -> (i32, String, String) {
        let mut args = extra.to_vec();
        args.extend(self.args(action));
        let out = self.world.run_helper(&args, input);
        (
            out.status.code().unwrap_or(-1),
            text(&out.stdout),
            text(&out.stderr),
        )
    }

    /// Runs an action that must succeed silently; returns stdout.
    pub fn ok(&self, action: &str, input: &str) -> String {
        let (code, out, err) = self.run(action, input);
        assert_eq!(
            (code, err.as_str()),
            (0, ""),
            "{action} failed for input:\n{input}"
        );
        out
    }

    pub fn store(&self, input: &str) {
        assert_eq!(self.ok("store", input), "", "store prints nothing");
    }

    pub fn get(&self, input: &str) -> String {
        self.ok("get", input)
    }

    pub fn erase(&self, input: &str) {
        assert_eq!(self.ok("erase", input), "", "erase prints nothing");
    }

    pub fn contents(&self) -> String {
        std::fs::read_to_string(&self.file).unwrap_or_default()
    }
}

#[test]
fn store_then_get_answers_exact_bytes() {
    let p = Pat::new("exact");
    p.store("protocol=https\nhost=github.com\nusername=octocat\npassword=ghp_one\n");
    assert_eq!(
        p.get("protocol=https\nhost=github.com\n"),
        "username=octocat\npassword=ghp_one\n"
    );
    assert_eq!(
        p.get("capability[]=authtype\nprotocol=https\nhost=github.com\nusername=octocat\nwwwauth[]=Basic realm=\"GitHub\"\n"),
        "username=octocat\npassword=ghp_one\n"
    );
}

#[test]
fn no_match_is_silent_success() {
    let p = Pat::new("nomatch");
    assert_eq!(
        p.get("protocol=https\nhost=github.com\n"),
        "",
        "no file yet"
    );
    p.store("protocol=https\nhost=github.com\nusername=u\npassword=t\n");
    assert_eq!(p.get("protocol=https\nhost=gitlab.com\n"), "");
    assert_eq!(
        p.get("protocol=https\nhost=github.com\nusername=other\n"),
        ""
    );
}

#[test]
fn hosts_match_exactly_after_lowercasing_and_keep_ports() {
    let p = Pat::new("hosts");
    p.store("protocol=https\nhost=GitHub.COM\nusername=u\npassword=t\n");
    assert_eq!(
        p.get("protocol=https\nhost=github.com\n"),
        "username=u\npassword=t\n"
    );
    assert_eq!(
        p.get("protocol=https\nhost=GITHUB.com\n"),
        "username=u\npassword=t\n"
    );
    for other in [
        "github.com:443",
        "github.com.evil.example",
        "evil.github.com",
        "ithub.com",
        "github.co",
        "",
    ] {
        assert_eq!(
            p.get(&format!("protocol=https\nhost={other}\n")),
            "",
            "host {other:?}"
        );
    }
    assert_eq!(
        p.get("protocol=http\nhost=github.com\n"),
        "",
        "http never gets an https token"
    );
    p.store("protocol=https\nhost=github.com:8443\nusername=u\npassword=port\n");
    assert_eq!(
        p.get("protocol=https\nhost=github.com:8443\n"),
        "username=u\npassword=port\n"
    );
    assert_eq!(
        p.get("protocol=https\nhost=github.com\n"),
        "username=u\npassword=t\n"
    );
}

#[test]
fn every_protocol_is_served_including_empty_hosts() {
    let p = Pat::new("protocols");
    p.store("protocol=smtp\nhost=mail.example.com:587\nusername=me\npassword=smtp-tok\n");
    p.store("protocol=cert\nhost=\npath=/home/me/cert.p12\nusername=\npassword=cert-pass\n");
    assert_eq!(
        p.get("protocol=smtp\nhost=mail.example.com:587\n"),
        "username=me\npassword=smtp-tok\n"
    );
    assert_eq!(
        p.get("protocol=cert\nhost=\npath=/home/me/cert.p12\n"),
        "username=\npassword=cert-pass\n"
    );
    assert_eq!(p.get("protocol=cert\nhost=x\npath=/home/me/cert.p12\n"), "");
}

#[test]
fn username_must_match_and_empty_is_a_value() {
    let p = Pat::new("users");
    p.store("protocol=https\nhost=h\nusername=alice\npassword=a\n");
    p.store("protocol=https\nhost=h\nusername=\npassword=empty\n");
    assert_eq!(
        p.get("protocol=https\nhost=h\nusername=alice\n"),
        "username=alice\npassword=a\n"
    );
    assert_eq!(
        p.get("protocol=https\nhost=h\nusername=\n"),
        "username=\npassword=empty\n"
    );
    assert_eq!(
        p.get("protocol=https\nhost=h\nusername=Alice\n"),
        "",
        "usernames are exact"
    );
}

#[test]
fn username_less_lookups_return_the_most_recently_stored() {
    let p = Pat::new("recent");
    p.store("protocol=https\nhost=h\nusername=alice\npassword=a\n");
    p.store("protocol=https\nhost=h\nusername=bob\npassword=b\n");
    assert_eq!(
        p.get("protocol=https\nhost=h\n"),
        "username=bob\npassword=b\n"
    );
    // An identical re-store or an expiry-only update does not make alice newer...
    p.store("protocol=https\nhost=h\nusername=alice\npassword=a\n");
    p.store("protocol=https\nhost=h\nusername=alice\npassword=a\npassword_expiry_utc=4000000000\n");
    assert_eq!(
        p.get("protocol=https\nhost=h\n"),
        "username=bob\npassword=b\n"
    );
    // ...a new token does.
    p.store("protocol=https\nhost=h\nusername=alice\npassword=a2\n");
    assert_eq!(
        p.get("protocol=https\nhost=h\n"),
        "username=alice\npassword=a2\n"
    );
}

#[test]
fn scoped_tokens_serve_their_path_and_below_and_the_longest_wins() {
    let p = Pat::new("paths");
    p.store("protocol=https\nhost=github.com\nusername=u\npassword=wide\n");
    p.store("protocol=https\nhost=github.com\npath=acme\nusername=u\npassword=acme\n");
    p.store("protocol=https\nhost=github.com\npath=/acme/tool.git/\nusername=u\npassword=tool\n");
    // A newer but less specific token does not win.
    p.store("protocol=https\nhost=github.com\nusername=v\npassword=wide-newer\n");
    let get = |path: &str| p.get(&format!("protocol=https\nhost=github.com\npath={path}\n"));
    assert_eq!(get("acme/tool.git"), "username=u\npassword=tool\n");
    assert_eq!(get("acme/tool/sub"), "username=u\npassword=tool\n");
    assert_eq!(get("acme/other.git"), "username=u\npassword=acme\n");
    assert_eq!(get("acme"), "username=u\npassword=acme\n");
    assert_eq!(
        get("acme-corp/x.git"),
        "username=v\npassword=wide-newer\n",
        "whole segments only"
    );
    assert_eq!(get("umbrella/x.git"), "username=v\npassword=wide-newer\n");
    assert_eq!(
        p.get("protocol=https\nhost=github.com\n"),
        "username=v\npassword=wide-newer\n",
        "no path: host-wide only"
    );
    assert_eq!(
        p.get("protocol=https\nhost=github.com\npath=acme/tool\nusername=u\n"),
        "username=u\npassword=tool\n"
    );
}

#[test]
fn a_request_without_path_never_gets_a_scoped_token() {
    let p = Pat::new("scopedonly");
    p.store("protocol=https\nhost=github.com\npath=acme\nusername=u\npassword=acme\n");
    assert_eq!(p.get("protocol=https\nhost=github.com\n"), "");
    assert_eq!(
        p.get("protocol=https\nhost=github.com\npath=acme/x\n"),
        "username=u\npassword=acme\n"
    );
}

#[test]
fn storing_the_same_thing_again_writes_nothing() {
    let p = Pat::new("idempotent");
    let input = "protocol=https\nhost=h\nusername=u\npassword=t\npassword_expiry_utc=4000000000\noauth_refresh_token=r\n";
    p.store(input);
    let before = std::fs::metadata(&p.file).unwrap();
    let bytes = p.contents();
    std::thread::sleep(std::time::Duration::from_millis(20));
    p.store(input);
    p.store("protocol=https\nhost=h\nusername=u\npassword=t\n");
    let after = std::fs::metadata(&p.file).unwrap();
    assert_eq!(
        (before.ino(), before.mtime_nsec()),
        (after.ino(), after.mtime_nsec()),
        "file was rewritten"
    );
    assert_eq!(p.contents(), bytes);
}

#[test]
fn store_overwrites_a_key_and_keeps_others() {
    let p = Pat::new("upsert");
    p.store("protocol=https\nhost=h\nusername=u\npassword=old\n");
    p.store("protocol=https\nhost=h\nusername=w\npassword=other\n");
    p.store("protocol=https\nhost=h\nusername=u\npassword=new\n");
    assert_eq!(
        p.get("protocol=https\nhost=h\nusername=u\n"),
        "username=u\npassword=new\n"
    );
    assert_eq!(
        p.get("protocol=https\nhost=h\nusername=w\n"),
        "username=w\npassword=other\n"
    );
    assert_eq!(
        p.contents().lines().count(),
        3,
        "header + two credentials:\n{}",
        p.contents()
    );
}

#[test]
fn expiry_and_refresh_token_round_trip() {
    let p = Pat::new("extras");
    p.store("protocol=https\nhost=h\nusername=u\npassword=t\npassword_expiry_utc=4000000000\noauth_refresh_token=refresh\n");
    assert_eq!(
        p.get("protocol=https\nhost=h\n"),
        "username=u\npassword=t\noauth_refresh_token=refresh\npassword_expiry_utc=4000000000\n"
    );
    // The same token without an expiry keeps the known one (and the refresh token).
    p.store("protocol=https\nhost=h\nusername=u\npassword=t\n");
    assert!(
        p.get("protocol=https\nhost=h\n")
            .contains("password_expiry_utc=4000000000\n")
    );
    // A new expiry for the same token is taken.
    p.store("protocol=https\nhost=h\nusername=u\npassword=t\npassword_expiry_utc=4100000000\n");
    assert!(
        p.get("protocol=https\nhost=h\n")
            .contains("password_expiry_utc=4100000000\n")
    );
    // A new token without expiry has none; 0 and garbage mean none, as git reads them.
    p.store("protocol=https\nhost=h\nusername=u\npassword=t2\npassword_expiry_utc=0\n");
    assert_eq!(
        p.get("protocol=https\nhost=h\n"),
        "username=u\npassword=t2\n"
    );
    p.store("protocol=https\nhost=h\nusername=u\npassword=t3\npassword_expiry_utc=soon\n");
    assert_eq!(
        p.get("protocol=https\nhost=h\n"),
        "username=u\npassword=t3\n"
    );
}

#[test]
fn authtype_credentials_only_go_to_capable_requests() {
    let p = Pat::new("authtype");
    p.store(
        "capability[]=authtype\nauthtype=Bearer\ncredential=bearer-tok\nprotocol=https\nhost=h\n",
    );
    assert_eq!(
        p.get("capability[]=authtype\nprotocol=https\nhost=h\n"),
        "capability[]=authtype\nauthtype=Bearer\ncredential=bearer-tok\n"
    );
    assert_eq!(
        p.get("protocol=https\nhost=h\n"),
        "",
        "never without the capability"
    );
    // Without the capability in the store request, authtype/credential are not ours to keep.
    p.store("authtype=Basic\ncredential=smuggled\nprotocol=https\nhost=other\n");
    assert_eq!(
        p.get("capability[]=authtype\nprotocol=https\nhost=other\n"),
        ""
    );
    assert!(!p.contents().contains("smuggled"));
}

#[test]
fn ephemeral_credentials_are_not_persisted() {
    let p = Pat::new("ephemeral");
    p.store("capability[]=authtype\nauthtype=Bearer\ncredential=eph\nephemeral=1\nprotocol=https\nhost=h\n");
    p.store("capability[]=authtype\nephemeral=true\nprotocol=https\nhost=h\nusername=u\npassword=eph2\n");
    assert!(!p.file.exists(), "nothing written:\n{}", p.contents());
}

#[test]
fn store_without_user_or_password_does_nothing() {
    let p = Pat::new("partial");
    p.store("protocol=https\nhost=h\nusername=u\n");
    p.store("protocol=https\nhost=h\npassword=t\n");
    assert!(!p.file.exists());
}

#[test]
fn erase_removes_only_the_rejected_token() {
    let p = Pat::new("erase");
    p.store("protocol=https\nhost=h\nusername=u\npassword=new\n");
    // A stale rejection (an older token) must not delete the newer one.
    p.erase("protocol=https\nhost=h\nusername=u\npassword=old\n");
    assert_eq!(
        p.get("protocol=https\nhost=h\n"),
        "username=u\npassword=new\n"
    );
    p.erase("protocol=https\nhost=h\nusername=u\npassword=new\n");
    assert_eq!(p.get("protocol=https\nhost=h\n"), "");
}

#[test]
fn erase_treats_absent_fields_as_wildcards() {
    let p = Pat::new("erasewild");
    p.store("protocol=https\nhost=h\nusername=a\npassword=1\n");
    p.store("protocol=https\nhost=h\nusername=b\npassword=2\n");
    p.store("protocol=https\nhost=h\npath=x\nusername=c\npassword=3\n");
    p.store("protocol=https\nhost=other\nusername=a\npassword=1\n");
    p.erase("protocol=https\nhost=h\nusername=a\n");
    assert_eq!(p.get("protocol=https\nhost=h\nusername=a\n"), "");
    assert_eq!(
        p.get("protocol=https\nhost=h\nusername=b\n"),
        "username=b\npassword=2\n"
    );
    p.erase("protocol=https\nhost=h\n");
    assert_eq!(
        p.get("protocol=https\nhost=h\npath=x\n"),
        "",
        "path absent: every path"
    );
    assert_eq!(
        p.get("protocol=https\nhost=other\n"),
        "username=a\npassword=1\n",
        "other hosts untouched"
    );
}

#[test]
fn erase_with_a_path_reaches_the_scoped_token_that_served_it() {
    let p = Pat::new("erasepath");
    p.store("protocol=https\nhost=github.com\npath=acme\nusername=u\npassword=acme-tok\n");
    p.store("protocol=https\nhost=github.com\npath=umbrella\nusername=u\npassword=umb-tok\n");
    p.store("protocol=https\nhost=github.com\nusername=u\npassword=wide-tok\n");
    p.erase("protocol=https\nhost=github.com\npath=acme/tool.git\nusername=u\npassword=acme-tok\n");
    let get = |path: &str| p.get(&format!("protocol=https\nhost=github.com\npath={path}\n"));
    assert_eq!(get("acme/tool.git"), "username=u\npassword=wide-tok\n");
    assert_eq!(get("umbrella/x"), "username=u\npassword=umb-tok\n");
    // The host-wide token is reached too when it is the rejected one.
    p.erase("protocol=https\nhost=github.com\npath=acme/tool.git\nusername=u\npassword=wide-tok\n");
    assert_eq!(get("acme/tool.git"), "");
    assert_eq!(get("umbrella/x"), "username=u\npassword=umb-tok\n");
}

#[test]
fn a_rejected_token_is_erased_where_it_serves_and_leaves_no_copy_behind() {
    let p = Pat::new("erasecopies");
    // git stores a working token under each repository path it served: the store rule
    // keeps one credential, so the rejection has no copy to miss.
    for path in ["umbrella", "umbrella/lab.git", "umbrella/kit.git"] {
        p.store(&format!(
            "protocol=https\nhost=h\npath={path}\nusername=bob\npassword=revoked\n"
        ));
    }
    assert_eq!(p.contents().matches("password=revoked").count(), 1);
    p.store("protocol=https\nhost=h\npath=umbrella/new\nusername=bob\npassword=fresh\n");
    p.store("protocol=https\nhost=other\npath=umbrella\nusername=bob\npassword=revoked\n");
    p.erase("protocol=https\nhost=h\npath=umbrella/lab.git\nusername=bob\npassword=revoked\n");
    let get =
        |host: &str, path: &str| p.get(&format!("protocol=https\nhost={host}\npath={path}\n"));
    assert_eq!(
        get("h", "umbrella/kit.git"),
        "",
        "sibling copy of the revoked token erased"
    );
    assert_eq!(
        get("h", "umbrella/new"),
        "username=bob\npassword=fresh\n",
        "a newer token stays"
    );
    assert_eq!(
        get("other", "umbrella/x"),
        "username=bob\npassword=revoked\n",
        "other hosts untouched"
    );
    // Without a secret, the path rule alone decides.
    p.store("protocol=https\nhost=h\npath=umbrella/kit\nusername=bob\npassword=k\n");
    p.erase("protocol=https\nhost=h\npath=umbrella/new\nusername=bob\n");
    assert_eq!(get("h", "umbrella/kit"), "username=bob\npassword=k\n");
    assert_eq!(get("h", "umbrella/new"), "");
}

#[test]
fn unknown_actions_and_keys_are_ignored() {
    let p = Pat::new("unknown");
    let out = p
        .world
        .run_helper(&p.args("capability"), "protocol=https\nhost=h\n");
    assert_eq!(
        (out.status.code(), out.stdout.len(), out.stderr.len()),
        (Some(0), 0, 0)
    );
    let out = p.world.run_helper(&p.args("frobnicate"), "");
    assert_eq!(
        (out.status.code(), out.stdout.len(), out.stderr.len()),
        (Some(0), 0, 0)
    );
    p.store("protocol=https\nhost=h\nusername=u\npassword=t\nfuture_key=1\nstate[]=x\nwwwauth[]=Basic\nurl=https://evil/\n");
    assert_eq!(
        p.get("protocol=https\nhost=h\nfuture_key=2\n"),
        "username=u\npassword=t\n"
    );
}

#[test]
fn a_person_typing_an_unknown_command_gets_usage() {
    // stdin is not a terminal here, so the silent rule applies; the terminal case is a unit of
    // run.rs. This checks usage errors for bad options, which apply to git's calls too.
    let w = World::new("usage");
    let out = w.run_helper(&["--bogus", "get"], "");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "git-credential-pat: unknown option '--bogus'; see 'git credential-pat --help'\n"
    );
    let out = w.run_helper(&["--ttl=forever", "get"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--ttl"));
    let out = w
        .command(crate::common::BIN)
        .env("GIT_CREDENTIAL_PAT_BACKEND", "cloud")
        .arg("get")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("GIT_CREDENTIAL_PAT_BACKEND"));
}

#[test]
fn options_come_from_the_environment_when_not_given() {
    let p = Pat::new("envopts");
    let mut cmd = p.world.helper();
    cmd.env("GIT_CREDENTIAL_PAT_FILE", &p.file)
        .env("GIT_CREDENTIAL_PAT_BACKEND", "file")
        .arg("store");
    let out = crate::common::run(
        &mut cmd,
        b"protocol=https\nhost=h\nusername=u\npassword=t\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(p.contents().contains("https://h / @u"));
}

#[test]
fn the_default_file_is_private_in_the_xdg_data_dir() {
    let w = World::new("default");
    let out = w.run_helper(
        &["store"],
        "protocol=https\nhost=h\nusername=u\npassword=t\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let f = w.default_file();
    assert_eq!(crate::common::mode(&f), 0o600);
    assert_eq!(crate::common::mode(f.parent().unwrap()), 0o700);
    let out = w.run_helper(&["get"], "protocol=https\nhost=h\n");
    assert_eq!(text(&out.stdout), "username=u\npassword=t\n");
}
