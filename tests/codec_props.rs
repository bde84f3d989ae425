//! Property tests of the two codecs a token passes through: git's protocol (a `get` answer
//! parsed back as git parses it) and the credentials file's line format. For every value:
//! parse(serialize(x)) == x, and no serialized value can carry a line break of its own.

use git_credential_pat::key::{HostKey, Key};
use git_credential_pat::protocol::{Request, Response};
use git_credential_pat::record::{Record, Stamp};
use git_credential_pat::secret::Secret;
use git_credential_pat::store::format::{decode, encode};
use proptest::prelude::*;

/// Bytes git can carry in a value: anything but LF, CR and NUL.
fn value() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        any::<u8>().prop_filter("no LF/CR/NUL", |b| !matches!(b, b'\n' | b'\r' | 0)),
        0..40,
    )
}

/// Any bytes at all (the file format must store whatever git sent).
fn bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..40)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn an_answer_parses_back_to_its_values(user in value(), pass in value(), rt in value(), expiry in 1u64..u64::MAX) {
        let mut out = Response::new();
        out.push("username", &user).unwrap();
        out.push("password", &pass).unwrap();
        out.push("oauth_refresh_token", &rt).unwrap();
        out.push("password_expiry_utc", expiry.to_string().as_bytes()).unwrap();
        let back = Request::parse(out.as_bytes()).unwrap();
        prop_assert_eq!(back.username, Some(user));
        prop_assert_eq!(back.password.as_ref().map(|s| s.expose().to_vec()), Some(pass));
        prop_assert_eq!(back.oauth_refresh_token.as_ref().map(|s| s.expose().to_vec()), Some(rt));
        prop_assert_eq!(back.password_expiry_utc, Some(expiry));
        prop_assert_eq!(out.as_bytes().iter().filter(|&&b| b == b'\n').count(), 4);
    }

    #[test]
    fn no_value_with_a_line_break_or_nul_is_ever_written(v in bytes()) {
        let mut out = Response::new();
        let bad = v.iter().any(|b| matches!(b, b'\n' | b'\r' | 0));
        prop_assert_eq!(out.push("password", &v).is_err(), bad);
        if bad {
            prop_assert!(out.is_empty(), "nothing of a refused value is kept");
        }
    }

    #[test]
    fn a_record_line_decodes_to_the_record(
        protocol in proptest::collection::vec(any::<u8>(), 1..10),
        host in bytes(),
        path in proptest::option::of(proptest::collection::vec(any::<u8>(), 1..30)),
        user in proptest::option::of(bytes()),
        pass in proptest::option::of(bytes()),
        cred in proptest::option::of(bytes()),
        rt in proptest::option::of(bytes()),
        authtype in proptest::option::of(bytes()),
        expires in proptest::option::of(any::<u64>()),
        ttl in proptest::option::of(any::<u64>()),
        secs in any::<u64>(),
        nanos in 0u32..1_000_000_000,
    ) {
        prop_assume!(pass.is_some() || cred.is_some());
        let rec = Record {
            key: Key { host: HostKey { protocol, host }, path, username: user },
            password: pass.as_deref().map(Secret::from_slice),
            oauth_refresh_token: rt.as_deref().map(Secret::from_slice),
            authtype,
            credential: cred.as_deref().map(Secret::from_slice),
            expires,
            ttl_expires: ttl,
            stored: Stamp { secs, nanos },
            learned: Default::default(),
        };
        let line = encode(&rec);
        prop_assert_eq!(line.last(), Some(&b'\n'));
        let body = &line[..line.len() - 1];
        prop_assert!(!body.iter().any(|&b| b == b'\n' || b == b'\r' || b == 0), "a line break inside a line");
        let back = decode(body).unwrap();
        prop_assert_eq!(&back.key, &rec.key);
        prop_assert!(back.same_content(&rec));
        prop_assert_eq!(&back.authtype, &rec.authtype);
    }
}
