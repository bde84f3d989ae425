use crate::protocol::Pat;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn expiry_of(answer: &str) -> u64 {
    let line = answer
        .lines()
        .find(|l| l.starts_with("password_expiry_utc="))
        .unwrap_or_else(|| panic!("no expiry in {answer:?}"));
    line["password_expiry_utc=".len()..].parse().unwrap()
}

fn with_file(p: &Pat, lines: &[&str]) {
    crate::common::write_private(&p.file, crate::common::v1_file(lines).as_bytes());
}

#[test]
fn an_expired_token_is_never_handed_out_and_is_evicted() {
    let p = Pat::new("evict");
    with_file(
        &p,
        &[
            "https://github.com /acme @old stored=1700000000.000000000 expires=1700003600 password=expired-tok",
            "https://github.com /acme @zed stored=1600000000.000000000 password=live-tok",
        ],
    );
    let (code, out, err) = p.run("get", "protocol=https\nhost=github.com\npath=acme/tool\n");
    assert_eq!(code, 0);
    assert_eq!(
        out, "username=zed\npassword=live-tok\n",
        "the older live token answers, never the expired one"
    );
    assert_eq!(
        err,
        "git-credential-pat: the token for https://old@github.com/acme expired on 2023-11-14 23:13 UTC and was removed from the file store; git will ask for a new one\n"
    );
    assert!(!p.contents().contains("expired-tok"));
    assert!(p.contents().contains("live-tok"));
    let (_, _, err) = p.run("get", "protocol=https\nhost=github.com\npath=acme/tool\n");
    assert_eq!(err, "", "said once: it is gone");
}

#[test]
fn a_token_expiring_this_second_is_expired() {
    let p = Pat::new("boundary");
    let t = now();
    with_file(
        &p,
        &[&format!(
            "https://h / @u stored=1700000000.000000000 expires={t} password=x"
        )],
    );
    let (_, out, err) = p.run("get", "protocol=https\nhost=h\n");
    assert_eq!(out, "");
    assert!(err.contains("expired on"), "{err}");
}

#[test]
fn an_already_expired_credential_is_not_stored() {
    let p = Pat::new("expiredstore");
    p.store("protocol=https\nhost=h\nusername=u\npassword=t\npassword_expiry_utc=1000\n");
    assert!(!p.file.exists());
}

/// The `ttl_expires=` deadline the file holds for the one credential of `host`.
fn ttl_deadline_of(p: &Pat, host: &str) -> u64 {
    let contents = p.contents();
    let line = contents
        .lines()
        .find(|l| l.starts_with(&format!("https://{host} ")))
        .unwrap_or_else(|| panic!("no credential for {host} in {contents}"));
    let v = line
        .split(' ')
        .find_map(|f| f.strip_prefix("ttl_expires="))
        .unwrap_or_else(|| panic!("no ttl_expires= in {line}"));
    v.parse().unwrap()
}

#[test]
fn the_ttl_is_kept_as_policy_and_never_handed_to_git() {
    let p = Pat::new("ttl");
    let ttl = |action: &str, input: &str| {
        let (code, out, err) = p.run_with(&["--ttl=1h"], action, input);
        assert_eq!(code, 0, "{err}");
        out
    };
    let t0 = now();
    ttl("store", "protocol=https\nhost=a\nusername=u\npassword=t\n");
    let e = ttl_deadline_of(&p, "a");
    assert!((t0 + 3600..=now() + 3600).contains(&e), "{e} vs {t0}");
    assert_eq!(
        ttl("get", "protocol=https\nhost=a\n"),
        "username=u\npassword=t\n",
        "git gets no password_expiry_utc made from a TTL"
    );
    // The token's own expiry is handed to git, whatever the TTL.
    ttl(
        "store",
        &format!(
            "protocol=https\nhost=b\nusername=u\npassword=t\npassword_expiry_utc={}\n",
            t0 + 60
        ),
    );
    assert_eq!(expiry_of(&ttl("get", "protocol=https\nhost=b\n")), t0 + 60);
    // An identical re-store writes nothing: the TTL is not extended.
    let before = p.contents();
    ttl("store", "protocol=https\nhost=a\nusername=u\npassword=t\n");
    assert_eq!(p.contents(), before);
    // A changed token restarts it.
    ttl("store", "protocol=https\nhost=a\nusername=u\npassword=t2\n");
    assert!(ttl_deadline_of(&p, "a") >= e);
}

#[test]
fn a_ttl_lapse_forgets_the_credential_silently() {
    let p = Pat::new("ttlexpire");
    let (code, _, err) = p.run_with(
        &["--ttl=1"],
        "store",
        "protocol=https\nhost=h\nusername=u\npassword=t\n",
    );
    assert_eq!(code, 0, "{err}");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let (_, out, err) = p.run("get", "protocol=https\nhost=h\n");
    assert_eq!(out, "");
    assert_eq!(err, "", "a TTL lapse is silent, as in git-credential-cache");
    assert!(!p.contents().contains("password=t"), "and it is evicted");
}

#[test]
fn near_expiry_warns_once_per_day_per_token() {
    let p = Pat::new("warn");
    let exp = now() + 2 * 86_400 - 60;
    p.store(&format!(
        "protocol=https\nhost=h\nusername=u\npassword=t\npassword_expiry_utc={exp}\n"
    ));
    let (_, out, err) = p.run("get", "protocol=https\nhost=h\n");
    assert!(out.starts_with("username=u\npassword=t\n"));
    assert!(
        err.starts_with("git-credential-pat: warning: the token for https://u@h expires on "),
        "{err}"
    );
    assert!(
        err.contains("(in 1 day)") && err.contains("git credential-pat add https://h --username=u"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
    let (_, _, err) = p.run("get", "protocol=https\nhost=h\n");
    assert_eq!(err, "", "at most once per 24 hours");
    // A new token is a new warning.
    p.store(&format!(
        "protocol=https\nhost=h\nusername=u\npassword=t2\npassword_expiry_utc={exp}\n"
    ));
    let (_, _, err) = p.run("get", "protocol=https\nhost=h\n");
    assert!(err.contains("warning:"), "{err}");
    let state =
        std::fs::read_to_string(p.world.home.join(".local/share/git-credential-pat/warned"))
            .unwrap();
    assert!(
        !state.contains("t2") && state.contains("https://h / @u"),
        "state holds keys, never tokens: {state}"
    );
}

#[test]
fn no_warning_outside_the_window_or_when_off() {
    let p = Pat::new("nowarn");
    let exp = now() + 30 * 86_400;
    p.store(&format!(
        "protocol=https\nhost=h\nusername=u\npassword=t\npassword_expiry_utc={exp}\n"
    ));
    assert_eq!(p.run("get", "protocol=https\nhost=h\n").2, "");
    let soon = now() + 3600;
    p.store(&format!(
        "protocol=https\nhost=k\nusername=u\npassword=t\npassword_expiry_utc={soon}\n"
    ));
    let (_, out, err) = p.run_with(&["--warn=0"], "get", "protocol=https\nhost=k\n");
    assert_eq!(err, "");
    assert!(out.contains("password=t"));
}
