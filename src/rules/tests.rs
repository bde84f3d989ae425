//! The rules with an injected clock: no sleeps, every instant chosen.

use super::*;

const T0: u64 = 1_800_000_000;

fn at(secs: u64) -> Stamp {
    Stamp { secs, nanos: 0 }
}

fn req(lines: &str) -> Request {
    Request::parse(lines.as_bytes()).unwrap()
}

/// Stores `lines` at `now` into `recs` as git's store would; returns whether it changed.
fn git_store(recs: &mut Vec<Record>, lines: &str, now: u64, ttl: Option<u64>) -> bool {
    let r = req(lines);
    match incoming(&r, at(now), ttl) {
        Some(new) => store(recs, &new, &Want::of_store(&r), now),
        None => false,
    }
}

fn git_get(recs: &[Record], lines: &str, now: u64) -> String {
    let r = req(lines);
    let want = Want::of_lookup(&r);
    match select(recs, &want, now).best {
        Some(i) => String::from_utf8(
            answer(&recs[i], want.authtype_capable, now)
                .unwrap()
                .as_bytes()
                .to_vec(),
        )
        .unwrap(),
        None => String::new(),
    }
}

fn git_erase(recs: &mut Vec<Record>, lines: &str) -> bool {
    let r = req(lines);
    erase(recs, &Want::of_lookup(&r), &Rejected::of(&r))
}

const WIDE: &str = "protocol=https\nhost=github.com\nusername=octo\npassword=wide\n";

#[test]
fn a_store_of_what_get_served_under_a_path_adds_no_copy() {
    let mut recs = Vec::new();
    assert!(git_store(&mut recs, WIDE, T0, None));
    let with_path =
        "protocol=https\nhost=github.com\npath=acme/tool.git\nusername=octo\npassword=wide\n";
    assert!(!git_store(&mut recs, with_path, T0 + 5, None));
    assert_eq!(recs.len(), 1);
    assert!(
        !git_store(&mut recs, WIDE, T0 + 6, None),
        "identical re-store"
    );
    assert_eq!(recs[0].stored, at(T0), "an identical store is not newer");
}

#[test]
fn a_store_with_a_new_expiry_updates_only_the_serving_credential() {
    let mut recs = Vec::new();
    git_store(&mut recs, WIDE, T0, None);
    let again = format!("{WIDE}path=acme/tool\npassword_expiry_utc={}\n", T0 + 100);
    assert!(git_store(&mut recs, &again, T0 + 1, None));
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].expires, Some(T0 + 100));
    assert_eq!(recs[0].stored, at(T0));
    // Without an expiry in the request the known one stays.
    assert!(!git_store(&mut recs, WIDE, T0 + 2, None));
    assert_eq!(recs[0].expires, Some(T0 + 100));
}

#[test]
fn a_different_token_under_a_path_is_stored_for_that_path() {
    let mut recs = Vec::new();
    git_store(&mut recs, WIDE, T0, None);
    let scoped = "protocol=https\nhost=github.com\npath=acme\nusername=octo\npassword=scoped\n";
    assert!(git_store(&mut recs, scoped, T0 + 1, None));
    assert_eq!(recs.len(), 2);
    let get = |p: &str| {
        git_get(
            &recs,
            &format!("protocol=https\nhost=github.com\npath={p}\n"),
            T0 + 2,
        )
    };
    assert!(get("acme/tool").contains("password=scoped"));
    assert!(
        get("acmecorp/tool").contains("password=wide"),
        "whole segments only"
    );
}

#[test]
fn erase_follows_the_path_rule_of_get() {
    let mut recs = Vec::new();
    for (p, tok) in [("orgA", "a"), ("orgB", "b")] {
        git_store(
            &mut recs,
            &format!("protocol=https\nhost=dev.azure.com\npath={p}\nusername=u\npassword={tok}\n"),
            T0,
            None,
        );
    }
    git_store(
        &mut recs,
        "protocol=https\nhost=dev.azure.com\nusername=u\npassword=w\n",
        T0,
        None,
    );
    // A 401 on orgB with orgA's token reaches nothing: orgA's token does not serve orgB.
    assert!(!git_erase(
        &mut recs,
        "protocol=https\nhost=dev.azure.com\npath=orgB/p/_git/r\nusername=u\npassword=a\n"
    ));
    // orgB's own token goes; orgA's and the host-wide one stay.
    assert!(git_erase(
        &mut recs,
        "protocol=https\nhost=dev.azure.com\npath=orgB/p/_git/r\nusername=u\npassword=b\n"
    ));
    assert_eq!(recs.len(), 2);
    // The host-wide token serves orgB's path, so a rejection of it there reaches it.
    assert!(git_erase(
        &mut recs,
        "protocol=https\nhost=dev.azure.com\npath=orgB/p\nusername=u\npassword=w\n"
    ));
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].key.path.as_deref(), Some(&b"orgA"[..]));
    // Without a path every path is reached.
    assert!(git_erase(
        &mut recs,
        "protocol=https\nhost=dev.azure.com\nusername=u\n"
    ));
    assert!(recs.is_empty());
}

#[test]
fn an_erase_naming_a_root_path_is_no_wildcard() {
    let mut recs = Vec::new();
    git_store(
        &mut recs,
        "protocol=https\nhost=h\npath=acme\nusername=u\npassword=a\n",
        T0,
        None,
    );
    assert!(!git_erase(
        &mut recs,
        "protocol=https\nhost=h\npath=acme/..\nusername=u\n"
    ));
    assert!(!git_erase(
        &mut recs,
        "protocol=https\nhost=h\npath=../acme\nusername=u\n"
    ));
    assert_eq!(recs.len(), 1);
}

#[test]
fn dot_segments_are_resolved_before_matching_and_climbing_fails_closed() {
    let mut recs = Vec::new();
    git_store(
        &mut recs,
        "protocol=https\nhost=h\nusername=u\npassword=wide\n",
        T0,
        None,
    );
    git_store(
        &mut recs,
        "protocol=https\nhost=h\npath=acme\nusername=u\npassword=scoped\n",
        T0,
        None,
    );
    let get = |p: &str| git_get(&recs, &format!("protocol=https\nhost=h\npath={p}\n"), T0);
    assert!(get("acme/../other/x").contains("password=wide"));
    assert!(get("other/../acme/tool").contains("password=scoped"));
    assert!(get("../acme/tool").contains("password=wide"));
    assert!(get("a/../../acme").contains("password=wide"));
    let before = recs.len();
    assert!(!git_store(
        &mut recs,
        "protocol=https\nhost=h\npath=../acme\nusername=u\npassword=evil\n",
        T0,
        None
    ));
    assert_eq!(recs.len(), before);
}

#[test]
fn the_ttl_is_policy_never_handed_to_git_and_lapses_silently() {
    let mut recs = Vec::new();
    git_store(
        &mut recs,
        "protocol=https\nhost=h\nusername=u\npassword=t\n",
        T0,
        Some(60),
    );
    let got = git_get(&recs, "protocol=https\nhost=h\n", T0 + 59);
    assert_eq!(
        got, "username=u\npassword=t\n",
        "no password_expiry_utc from a TTL"
    );
    let sel = select(
        &recs,
        &Want::of_lookup(&req("protocol=https\nhost=h\n")),
        T0 + 60,
    );
    assert_eq!(sel.best, None);
    assert_eq!(sel.evict, vec![(0, Lapse::Ttl)]);
    assert_eq!(
        recs[0].expiry(),
        Some(T0 + 60),
        "list shows the TTL's deadline"
    );
}

#[test]
fn an_identical_store_does_not_extend_the_ttl() {
    let mut recs = Vec::new();
    let tok = "protocol=https\nhost=h\nusername=u\npassword=t\n";
    git_store(&mut recs, tok, T0, Some(60));
    assert!(!git_store(&mut recs, tok, T0 + 30, Some(60)));
    assert_eq!(recs[0].ttl_expires, Some(T0 + 60));
    let new = "protocol=https\nhost=h\nusername=u\npassword=t2\n";
    assert!(git_store(&mut recs, new, T0 + 30, Some(60)));
    assert_eq!(
        recs[0].ttl_expires,
        Some(T0 + 90),
        "a new token gets a new TTL"
    );
}

#[test]
fn the_token_expiry_is_the_earliest_of_its_own_and_the_ttl() {
    let mut recs = Vec::new();
    let tok = format!(
        "protocol=https\nhost=h\nusername=u\npassword=t\npassword_expiry_utc={}\n",
        T0 + 30
    );
    git_store(&mut recs, &tok, T0, Some(60));
    assert_eq!(recs[0].expiry(), Some(T0 + 30));
    assert!(
        git_get(&recs, "protocol=https\nhost=h\n", T0)
            .contains(&format!("password_expiry_utc={}\n", T0 + 30))
    );
    let sel = select(
        &recs,
        &Want::of_lookup(&req("protocol=https\nhost=h\n")),
        T0 + 30,
    );
    assert_eq!(
        sel.evict,
        vec![(0, Lapse::Token)],
        "expired at exactly its expiry"
    );
}

#[test]
fn an_expired_refreshable_token_is_answered_with_its_refresh_token_only() {
    let mut recs = Vec::new();
    let tok = format!(
        "protocol=https\nhost=h\nusername=u\npassword=old\noauth_refresh_token=rt1\npassword_expiry_utc={}\n",
        T0 + 10
    );
    git_store(&mut recs, &tok, T0, None);
    let got = git_get(&recs, "protocol=https\nhost=h\n", T0 + 10);
    assert_eq!(got, "username=u\noauth_refresh_token=rt1\n");
    let sel = select(
        &recs,
        &Want::of_lookup(&req("protocol=https\nhost=h\n")),
        T0 + 10,
    );
    assert!(sel.evict.is_empty(), "kept until a store replaces it");
    // The generator's fresh token replaces it, with its refresh token and expiry.
    let fresh = format!(
        "protocol=https\nhost=h\nusername=u\npassword=new\noauth_refresh_token=rt2\npassword_expiry_utc={}\n",
        T0 + 3600
    );
    assert!(git_store(&mut recs, &fresh, T0 + 11, None));
    assert_eq!(recs.len(), 1);
    assert_eq!(
        git_get(&recs, "protocol=https\nhost=h\n", T0 + 12),
        format!(
            "username=u\npassword=new\noauth_refresh_token=rt2\npassword_expiry_utc={}\n",
            T0 + 3600
        )
    );
    assert!(
        !should_warn(&recs[0], Some(7 * 86_400), T0 + 12),
        "refreshable: no warning"
    );
}

#[test]
fn a_token_expiring_within_the_window_is_warned_about() {
    let mut recs = Vec::new();
    let tok = format!(
        "protocol=https\nhost=h\nusername=u\npassword=t\npassword_expiry_utc={}\n",
        T0 + 3600
    );
    git_store(&mut recs, &tok, T0, Some(60));
    assert!(should_warn(&recs[0], Some(7200), T0));
    assert!(!should_warn(&recs[0], Some(600), T0));
    assert!(!should_warn(&recs[0], None, T0));
    let mut ttl_only = Vec::new();
    git_store(
        &mut ttl_only,
        "protocol=https\nhost=h\nusername=u\npassword=t\n",
        T0,
        Some(60),
    );
    assert!(
        !should_warn(&ttl_only[0], Some(7200), T0),
        "a TTL is no token expiry"
    );
}

#[test]
fn an_already_expired_or_ephemeral_credential_is_not_stored() {
    let mut recs = Vec::new();
    let expired =
        format!("protocol=https\nhost=h\nusername=u\npassword=t\npassword_expiry_utc={T0}\n");
    assert!(!git_store(&mut recs, &expired, T0, None));
    assert!(!git_store(
        &mut recs,
        "protocol=https\nhost=h\nusername=u\npassword=t\nephemeral=1\n",
        T0,
        None
    ));
    assert!(!git_store(
        &mut recs,
        "protocol=https\nhost=h\nusername=u\n",
        T0,
        None
    ));
    assert!(recs.is_empty());
}

#[test]
fn evict_spares_a_token_stored_a_moment_ago() {
    let mut recs = Vec::new();
    let old = format!(
        "protocol=https\nhost=h\nusername=u\npassword=old\npassword_expiry_utc={}\n",
        T0 + 1
    );
    git_store(&mut recs, &old, T0, None);
    let seen = recs[0].clone();
    git_store(
        &mut recs,
        "protocol=https\nhost=h\nusername=u\npassword=new\n",
        T0 + 2,
        None,
    );
    assert!(!evict(&mut recs, &seen, T0 + 2));
    assert_eq!(recs.len(), 1);
}

#[test]
fn add_and_remove_reach_the_per_repository_copies_of_a_token() {
    let copy = |path: Option<&[u8]>, user: &[u8], tok: &[u8]| Record {
        key: Key::new(b"https", b"github.com", path, Some(user)),
        password: Some(Secret::from_slice(tok)),
        oauth_refresh_token: None,
        authtype: None,
        credential: None,
        expires: None,
        ttl_expires: None,
        stored: at(T0),
        learned: Default::default(),
    };
    let start = vec![
        copy(None, b"octo", b"old"),
        copy(Some(b"acme/tool"), b"octo", b"old"),
        copy(Some(b"acme/lib"), b"octo", b"scoped"),
        copy(Some(b"acme/x"), b"other", b"old"),
    ];
    let mut recs = start.clone();
    let new = Record {
        stored: at(T0 + 1),
        ..copy(None, b"octo", b"new")
    };
    assert!(add(&mut recs, &new));
    let tokens: Vec<&[u8]> = recs
        .iter()
        .map(|r| r.password.as_ref().unwrap().expose())
        .collect();
    assert_eq!(
        tokens,
        [&b"new"[..], b"new", b"scoped", b"old"],
        "copy of the same user rotated"
    );

    let mut recs = start;
    let gone = remove(&mut recs, None, Some(b"octo"));
    assert_eq!(gone.len(), 2, "the key and its copy");
    assert_eq!(recs.len(), 2);
    let gone = remove(&mut recs, Some(b"acme/lib"), None);
    assert_eq!(gone.len(), 1);
}

#[test]
fn retire_drops_a_stale_copy_and_rotates_its_copies() {
    let mut recs = Vec::new();
    git_store(
        &mut recs,
        "protocol=https\nhost=h\nusername=u\npassword=old\n",
        T0,
        None,
    );
    git_store(
        &mut recs,
        "protocol=https\nhost=h\npath=a\nusername=u\npassword=x\n",
        T0,
        None,
    );
    recs.push(Record {
        key: Key::new(b"https", b"h", Some(b"b"), Some(b"u")),
        ..recs[0].clone()
    });
    let new = incoming(
        &req("protocol=https\nhost=h\nusername=u\npassword=new\n"),
        at(T0 + 1),
        None,
    )
    .unwrap();
    assert!(retire(&mut recs, &new));
    assert_eq!(recs.len(), 2);
    assert!(git_get(&recs, "protocol=https\nhost=h\npath=b\n", T0 + 1).contains("password=new"));
    assert!(
        !retire(&mut recs, &new),
        "nothing at the key: nothing to do"
    );
}

#[test]
fn authtype_credentials_answer_only_a_capable_git() {
    let mut recs = Vec::new();
    let lines = "capability[]=authtype\nprotocol=https\nhost=h\nauthtype=Bearer\ncredential=abc\n";
    assert!(git_store(&mut recs, lines, T0, None));
    assert_eq!(git_get(&recs, "protocol=https\nhost=h\n", T0), "");
    assert_eq!(
        git_get(&recs, "capability[]=authtype\nprotocol=https\nhost=h\n", T0),
        "capability[]=authtype\nauthtype=Bearer\ncredential=abc\n"
    );
    assert!(!git_store(&mut recs, lines, T0 + 1, None), "identical");
}

#[test]
fn prune_removes_every_expired_credential() {
    let mut recs = Vec::new();
    git_store(
        &mut recs,
        "protocol=https\nhost=h\nusername=u\npassword=t\n",
        T0,
        Some(10),
    );
    git_store(
        &mut recs,
        "protocol=https\nhost=h\nusername=v\npassword=t\n",
        T0,
        None,
    );
    assert!(prune(&mut recs, T0 + 9).is_empty());
    assert_eq!(prune(&mut recs, T0 + 10).len(), 1);
    assert_eq!(recs.len(), 1);
}

mod batch {
    //! The batch forms used by `import` agree with one-at-a-time application.
    use super::*;
    use proptest::prelude::*;

    fn rec(host: u8, path: Option<u8>, user: u8, tok: u8) -> Record {
        let path = path.map(|p| ["a", "a/b", "c"][p as usize].as_bytes());
        Record {
            key: Key::new(
                b"https",
                &[b'h', b'0' + host],
                path,
                Some(&[b'u', b'0' + user]),
            ),
            password: Some(Secret::from_slice(&[b't', b'0' + tok])),
            oauth_refresh_token: None,
            authtype: None,
            credential: None,
            expires: None,
            ttl_expires: None,
            stored: at(T0 + u64::from(tok)),
            learned: Default::default(),
        }
    }

    fn recs() -> impl Strategy<Value = Vec<Record>> {
        proptest::collection::vec(
            (0u8..2, proptest::option::of(0u8..3), 0u8..2, 0u8..3)
                .prop_map(|(h, p, u, t)| rec(h, p, u, t)),
            0..12,
        )
        .prop_map(|mut v| {
            // A store holds one record per key.
            let mut seen = std::collections::HashSet::new();
            v.retain(|r| seen.insert(r.key.clone()));
            v
        })
    }

    fn shape(v: &[Record]) -> Vec<(Key, Vec<u8>)> {
        let mut out: Vec<_> = v
            .iter()
            .map(|r| {
                (
                    r.key.clone(),
                    r.password.as_ref().unwrap().expose().to_vec(),
                )
            })
            .collect();
        out.sort();
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 1024,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn upsert_all_is_upsert_one_at_a_time(old in recs(), news in recs()) {
            let mut a = old.clone();
            let mut b = old;
            let changed_a = upsert_all(&mut a, &news).changed();
            let mut changed_b = false;
            for n in &news {
                changed_b |= upsert(&mut b, n.clone());
            }
            prop_assert_eq!(shape(&a), shape(&b));
            prop_assert_eq!(changed_a, changed_b);
        }

        #[test]
        fn retire_all_retires_each_key_and_rotates_its_copies(old in recs(), news in recs()) {
            let mut a = old.clone();
            let changed_a = retire_all(&mut a, &news);
            // Written out plainly, on the tokens as they were: every key `news` names goes;
            // a record that copies retired keys (same host and user, a path under theirs, the
            // same original token) takes the new token of the most specific of them.
            let retired: Vec<(&Record, &Record)> = news
                .iter()
                .filter_map(|n| old.iter().find(|o| o.key == n.key).map(|o| (o, n)))
                .collect();
            let mut b: Vec<Record> = Vec::new();
            for r in &old {
                if retired.iter().any(|(o, _)| o.key == r.key) {
                    continue;
                }
                let nearest = retired
                    .iter()
                    .filter(|(o, _)| is_copy_of(r, o))
                    .max_by_key(|(o, _)| crate::key::specificity(o.key.path.as_deref()));
                b.push(match nearest {
                    Some((_, n)) => Record { key: r.key.clone(), ..(*n).clone() },
                    None => r.clone(),
                });
            }
            prop_assert_eq!(shape(&a), shape(&b));
            prop_assert_eq!(changed_a, !retired.is_empty());
        }
    }
}

#[test]
fn retire_all_rotates_copies() {
    let mk = |path: Option<&[u8]>, tok: &[u8]| Record {
        key: Key::new(b"https", b"h1", path, Some(b"u0")),
        password: Some(Secret::from_slice(tok)),
        oauth_refresh_token: None,
        authtype: None,
        credential: None,
        expires: None,
        ttl_expires: None,
        stored: at(T0),
        learned: Default::default(),
    };
    let mut recs = vec![mk(None, b"t1"), mk(Some(b"c"), b"t1")];
    assert!(retire_all(&mut recs, &[mk(None, b"t2")]));
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].password.as_ref().unwrap().expose(), b"t2");
}

#[test]
fn only_a_token_no_credential_holds_is_unseen() {
    let mut recs = Vec::new();
    let first = incoming(&req(WIDE), at(T0), None).unwrap();
    assert!(unseen(&recs, &first), "an empty store has seen nothing");
    assert!(git_store(&mut recs, WIDE, T0, None));
    assert!(!unseen(&recs, &first), "an identical re-store");
    let scoped = "protocol=https\nhost=github.com\npath=acme\nusername=octo\npassword=wide\n";
    let under_path = incoming(&req(scoped), at(T0 + 1), None).unwrap();
    assert!(!unseen(&recs, &under_path), "the same token under a path");
    let rotated = WIDE.replace("password=wide", "password=new");
    let new = incoming(&req(&rotated), at(T0 + 2), None).unwrap();
    assert!(unseen(&recs, &new));
}

#[test]
fn confirm_touches_only_the_same_token_and_keeps_it_as_old() {
    let mut recs = Vec::new();
    assert!(git_store(&mut recs, WIDE, T0, None));
    let rec = recs[0].clone();
    let learned = Learned {
        login: Some(b"octo".to_vec()),
        scopes: Some(vec![b"repo".to_vec()]),
        verified: Some(T0 + 1),
    };
    assert!(confirm(&mut recs, &rec, Some(T0 + 86_400), &learned));
    assert_eq!(recs[0].expires, Some(T0 + 86_400));
    assert_eq!(recs[0].learned, learned);
    assert_eq!(recs[0].stored, at(T0), "a confirmation is not newer");
    assert!(
        !confirm(&mut recs, &rec, Some(T0 + 86_400), &learned),
        "unchanged"
    );
    assert!(
        !confirm(&mut recs, &rec, None, &learned),
        "no expiry told: kept"
    );
    assert_eq!(recs[0].expires, Some(T0 + 86_400));
    let rotated = WIDE.replace("password=wide", "password=new");
    assert!(git_store(&mut recs, &rotated, T0 + 2, None));
    assert!(
        !confirm(&mut recs, &rec, Some(T0 + 5), &learned),
        "another process replaced the token meanwhile"
    );
    assert_eq!(recs[0].learned, Learned::default());
    assert_eq!(recs[0].expires, None);
}

#[test]
fn forget_token_removes_it_with_its_copies_and_nothing_newer() {
    let mk = |path: Option<&[u8]>, tok: &[u8]| Record {
        key: Key::new(b"https", b"h1", path, Some(b"u0")),
        password: Some(Secret::from_slice(tok)),
        oauth_refresh_token: None,
        authtype: None,
        credential: None,
        expires: None,
        ttl_expires: None,
        stored: at(T0),
        learned: Default::default(),
    };
    let mut recs = vec![
        mk(None, b"t1"),
        mk(Some(b"c"), b"t1"),
        mk(Some(b"d"), b"t2"),
    ];
    assert!(forget_token(&mut recs, &mk(None, b"t9")).is_empty());
    assert_eq!(forget_token(&mut recs, &mk(None, b"t1")).len(), 2);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].key.path.as_deref(), Some(&b"d"[..]));
}

#[test]
fn a_verified_add_of_the_same_token_records_what_the_forge_said() {
    let mut recs = Vec::new();
    assert!(git_store(&mut recs, WIDE, T0, None));
    let mut again = recs[0].clone();
    again.stored = at(T0 + 9);
    assert!(!add(&mut recs, &again), "nothing new");
    again.learned.verified = Some(T0 + 9);
    again.learned.login = Some(b"octo".to_vec());
    assert!(add(&mut recs, &again));
    assert_eq!(recs[0].learned.login.as_deref(), Some(&b"octo"[..]));
    assert_eq!(recs[0].stored, at(T0));
}
