use crate::common::text;
use crate::protocol::Pat;

const TOKEN: &str = "ghp_SECRET_never_shown_0123456789";

fn seeded(name: &str) -> Pat {
    let p = Pat::new(name);
    p.store(&format!(
        "protocol=https\nhost=h\nusername=u\npassword={TOKEN}\n"
    ));
    p
}

/// Runs `action` with raw `input`, expecting a one-line refusal, exit 1, no stdout, no
/// secret on stderr and the credentials file untouched.
fn refused(p: &Pat, action: &str, input: &[u8], expect: &str) {
    let before = std::fs::read(&p.file).unwrap();
    let out = crate::common::run(p.world.helper().args(p.args(action)), input);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{action}: {err}");
    assert_eq!(out.stdout, b"", "{action} must print no answer");
    assert!(
        err.starts_with("git-credential-pat: ") && err.ends_with('\n'),
        "{err:?}"
    );
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert!(err.contains(expect), "{err:?} should mention {expect:?}");
    assert!(
        !err.contains(TOKEN) && !err.contains("victim") && !err.contains("SMUGGLED"),
        "{err:?}"
    );
    assert_eq!(
        std::fs::read(&p.file).unwrap(),
        before,
        "{action} changed the file"
    );
}

#[test]
fn carriage_returns_are_refused_everywhere() {
    let p = seeded("cr");
    for action in ["get", "store", "erase"] {
        refused(
            &p,
            action,
            b"protocol=https\nhost=h\rhost=victim\nusername=u\npassword=SMUGGLED\n",
            "carriage return",
        );
        refused(
            &p,
            action,
            format!("protocol=https\nhost=h\nusername=u\npassword={TOKEN}\r\n").as_bytes(),
            "carriage return",
        );
        // A token pasted on its own line (no key): described, never repeated.
        refused(
            &p,
            action,
            format!("{TOKEN}\r\n").as_bytes(),
            "carriage return",
        );
        refused(&p, action, format!("{TOKEN}\0\n").as_bytes(), "NUL");
    }
}

#[test]
fn nul_bytes_are_refused() {
    let p = seeded("nul");
    for action in ["get", "store", "erase"] {
        refused(
            &p,
            action,
            b"protocol=https\nhost=h\0victim\nusername=u\npassword=SMUGGLED\n",
            "NUL",
        );
    }
}

#[test]
fn lines_without_equals_are_refused_without_echo() {
    let p = seeded("noeq");
    for action in ["get", "store", "erase"] {
        refused(
            &p,
            action,
            format!("protocol=https\nhost=h\n{TOKEN}\n").as_bytes(),
            "line 3 has no '='",
        );
    }
}

#[test]
fn over_long_lines_are_refused_not_split() {
    let p = seeded("long");
    // git's "not confused by long header" case: a header whose tail would read host=victim.
    let mut input = b"protocol=https\nhost=h\nwwwauth[]=".to_vec();
    input.resize(input.len() + 65_530, b'A');
    input.extend_from_slice(b"host=victim.example.com\nusername=u\npassword=SMUGGLED\n");
    for action in ["get", "store", "erase"] {
        refused(&p, action, &input, "longer than 65535 bytes");
    }
    // Exactly at git's limit is fine.
    let mut ok = b"protocol=https\nhost=h\nwwwauth[]=".to_vec();
    ok.resize(22 + 65_534, b'A');
    ok.push(b'\n');
    let out = crate::common::run(p.world.helper().args(p.args("get")), &ok);
    assert_eq!(text(&out.stdout), format!("username=u\npassword={TOKEN}\n"));
}

#[test]
fn oversized_requests_are_refused() {
    let p = seeded("huge");
    let mut input = b"protocol=https\nhost=h\n".to_vec();
    while input.len() <= 1 << 20 {
        input.extend_from_slice(b"wwwauth[]=Basic realm=\"padding padding padding padding\"\n");
    }
    for action in ["get", "store", "erase"] {
        refused(&p, action, &input, "larger than 1048576 bytes");
    }
}

#[test]
fn missing_protocol_or_host_is_an_error_never_a_wildcard() {
    let p = seeded("missing");
    refused(
        &p,
        "store",
        b"host=h\nusername=u\npassword=SMUGGLED\n",
        "without 'protocol'",
    );
    refused(
        &p,
        "store",
        b"protocol=https\nusername=u\npassword=SMUGGLED\n",
        "without 'host'",
    );
    refused(&p, "get", b"protocol=https\n", "without 'host'");
    refused(
        &p,
        "erase",
        b"protocol=https\nusername=u\n",
        "without 'host'",
    );
    refused(&p, "erase", b"", "without 'protocol'");
}

#[test]
fn invalid_booleans_are_refused() {
    let p = seeded("bool");
    refused(
        &p,
        "store",
        b"protocol=https\nhost=h\nusername=u\npassword=SMUGGLED\nephemeral=perhaps\n",
        "not a boolean",
    );
}

#[test]
fn refusing_a_loose_file_shows_no_token() {
    let p = seeded("noleak");
    crate::common::set_mode(&p.file, 0o640);
    for action in ["get", "store", "erase"] {
        refused(
            &p,
            action,
            b"protocol=https\nhost=h\nusername=u\npassword=SMUGGLED\n",
            "chmod 600",
        );
    }
    assert_eq!(
        crate::common::mode(&p.file),
        0o640,
        "the helper reports, it does not fix"
    );
}
