//! The chain over heap stores: order, passing over, fallback, stale copies, no-op writes.

use std::rc::Rc;

use super::*;
use crate::app::{self, Ctx};
use crate::protocol::Request;
use crate::record::Stamp;
use crate::store::heap::HeapStore;

const NOW: Stamp = Stamp {
    secs: 1_800_000_000,
    nanos: 0,
};

/// A keychain-like and a file-like heap store, under `auto`.
fn auto() -> (Rc<HeapStore>, Rc<HeapStore>, Chain) {
    let keychain = Rc::new(HeapStore::new(Backend::Keychain));
    let file = Rc::new(HeapStore::new(Backend::File));
    let chain = Chain::new(
        vec![Box::new(keychain.clone()), Box::new(file.clone())],
        true,
    );
    (keychain, file, chain)
}

fn run(chain: &mut Chain, action: &str, lines: &str) -> (String, String) {
    let req = Request::parse(lines.as_bytes()).unwrap();
    let mut err = Vec::new();
    let mut ctx = Ctx {
        now: NOW,
        ttl: None,
        warn: None,
        warn_state: None,
        state_key: None,
        notices: &mut err,
    };
    let out = match action {
        "get" => {
            let a = app::get(chain, &req, &mut ctx).unwrap();
            String::from_utf8(a.as_bytes().to_vec()).unwrap()
        }
        "store" => app::store(chain, &req, &mut ctx)
            .map(|()| String::new())
            .unwrap(),
        _ => app::erase(chain, &req, &mut ctx)
            .map(|()| String::new())
            .unwrap(),
    };
    (out, String::from_utf8(err).unwrap())
}

const TOK: &str = "protocol=https\nhost=h\nusername=u\npassword=t\n";

#[test]
fn new_tokens_go_to_the_first_store() {
    let (keychain, file, mut chain) = auto();
    run(&mut chain, "store", TOK);
    assert_eq!(keychain.load_all().unwrap().len(), 1);
    assert_eq!(file.writes(), 0);
    assert_eq!(
        run(&mut chain, "get", "protocol=https\nhost=h\n").0,
        "username=u\npassword=t\n"
    );
}

#[test]
fn an_unreachable_keychain_is_passed_over_and_the_fallback_said_once() {
    let (keychain, file, mut chain) = auto();
    keychain.set_unreachable(true);
    let (_, err) = run(&mut chain, "store", TOK);
    assert!(
        err.contains("the keychain is not reachable, so the token was stored in the file"),
        "{err}"
    );
    assert_eq!(file.load_all().unwrap().len(), 1);
    let (out, err) = run(&mut chain, "get", "protocol=https\nhost=h\n");
    assert_eq!(
        (out.as_str(), err.as_str()),
        ("username=u\npassword=t\n", ""),
        "quietly from the file"
    );
    let (_, err) = run(
        &mut chain,
        "store",
        "protocol=https\nhost=h\nusername=u\npassword=t2\n",
    );
    assert_eq!(err, "", "said only when it creates the file");
    // A person asking is told about the pass-over.
    assert!(
        chain.take_notes().is_empty(),
        "git's actions consumed their notes"
    );
    let _ = manage_list(&mut chain);
    assert!(matches!(
        chain.take_notes()[..],
        [Note::PassedOver {
            backend: Backend::Keychain,
            ..
        }]
    ));
}

fn manage_list(chain: &mut Chain) -> usize {
    crate::manage::list(chain).unwrap().len()
}

#[test]
fn without_fall_back_an_unreachable_keychain_is_an_error() {
    let keychain = Rc::new(HeapStore::new(Backend::Keychain));
    keychain.set_unreachable(true);
    let mut chain = Chain::new(vec![Box::new(keychain)], false);
    let req = Request::parse(TOK.as_bytes()).unwrap();
    let mut err = Vec::new();
    let mut ctx = Ctx {
        now: NOW,
        ttl: None,
        warn: None,
        warn_state: None,
        state_key: None,
        notices: &mut err,
    };
    assert!(app::store(&mut chain, &req, &mut ctx).is_err());
}

#[test]
fn a_keychain_store_retires_the_stale_file_copy() {
    let (keychain, file, mut chain) = auto();
    keychain.set_unreachable(true);
    run(&mut chain, "store", TOK);
    keychain.set_unreachable(false);
    run(
        &mut chain,
        "store",
        "protocol=https\nhost=h\nusername=u\npassword=t2\n",
    );
    assert_eq!(keychain.load_all().unwrap().len(), 1);
    assert!(
        file.load_all().unwrap().is_empty(),
        "the plain-text copy is gone"
    );
}

#[test]
fn a_store_of_what_the_file_serves_stays_in_the_file() {
    let (keychain, file, mut chain) = auto();
    keychain.set_unreachable(true);
    run(&mut chain, "store", TOK);
    keychain.set_unreachable(false);
    let file_writes = file.writes();
    run(&mut chain, "store", &format!("{TOK}path=acme/tool\n"));
    assert_eq!(keychain.writes(), 0, "no copy in the keychain");
    assert_eq!(file.writes(), file_writes, "nothing changed in the file");
    run(
        &mut chain,
        "store",
        &format!("{TOK}password_expiry_utc=1900000000\n"),
    );
    assert_eq!(keychain.writes(), 0);
    assert_eq!(
        file.load_all().unwrap()[0].expires,
        Some(1_900_000_000),
        "expiry updated where it is served"
    );
}

#[test]
fn no_op_stores_and_erases_write_nothing() {
    let (keychain, file, mut chain) = auto();
    run(&mut chain, "store", TOK);
    let writes = (keychain.writes(), file.writes());
    run(&mut chain, "store", TOK);
    run(
        &mut chain,
        "erase",
        "protocol=https\nhost=h\nusername=u\npassword=other\n",
    );
    run(&mut chain, "erase", "protocol=https\nhost=elsewhere\n");
    run(&mut chain, "store", "protocol=https\nhost=h\nusername=u\n");
    assert_eq!((keychain.writes(), file.writes()), writes);
    run(
        &mut chain,
        "erase",
        "protocol=https\nhost=h\nusername=u\npassword=t\n",
    );
    assert_eq!(keychain.writes(), writes.0 + 1);
    assert_eq!(file.writes(), writes.1, "the file held nothing to erase");
}

#[test]
fn erase_reaches_every_store() {
    let (keychain, file, mut chain) = auto();
    keychain.set_unreachable(true);
    run(
        &mut chain,
        "store",
        "protocol=https\nhost=h\nusername=v\npassword=t\n",
    );
    keychain.set_unreachable(false);
    run(&mut chain, "store", TOK);
    run(&mut chain, "erase", "protocol=https\nhost=h\npassword=t\n");
    assert!(keychain.load_all().unwrap().is_empty());
    assert!(file.load_all().unwrap().is_empty());
}

/// Runs `store` of `lines` at `secs` with `--ttl` = `ttl`.
fn store_at(chain: &mut Chain, lines: &str, secs: u64, ttl: Option<u64>) {
    let req = Request::parse(lines.as_bytes()).unwrap();
    let mut err = Vec::new();
    let mut ctx = Ctx {
        now: Stamp { secs, nanos: 0 },
        ttl,
        warn: None,
        warn_state: None,
        state_key: None,
        notices: &mut err,
    };
    app::store(chain, &req, &mut ctx).unwrap();
    assert!(err.is_empty(), "{}", String::from_utf8_lossy(&err));
}

#[test]
fn an_identical_store_restarts_the_ttl_on_the_memory_backend_only() {
    let later = NOW.secs + 600;
    for (backend, restarts) in [(Backend::Memory, true), (Backend::File, false)] {
        let store = Rc::new(HeapStore::new(backend));
        let mut chain = Chain::new(vec![Box::new(store.clone())], false);
        store_at(&mut chain, TOK, NOW.secs, Some(900));
        store_at(&mut chain, TOK, later, Some(900));
        let rec = &store.load_all().unwrap()[0];
        let expected = if restarts { later } else { NOW.secs } + 900;
        assert_eq!(rec.ttl_expires, Some(expected), "{backend:?}");
        assert_eq!(rec.stored, NOW, "a re-store is not a newer token");
        assert_eq!(store.writes(), 1 + usize::from(restarts), "{backend:?}");
        // The same request again in the same second changes nothing at all.
        store_at(&mut chain, TOK, later, Some(900));
        assert_eq!(store.writes(), 1 + usize::from(restarts), "{backend:?}");
    }
    // --ttl=0 on the memory backend: the next use takes the deadline away.
    let store = Rc::new(HeapStore::new(Backend::Memory));
    let mut chain = Chain::new(vec![Box::new(store.clone())], false);
    store_at(&mut chain, TOK, NOW.secs, Some(900));
    store_at(&mut chain, TOK, later, None);
    assert_eq!(store.load_all().unwrap()[0].ttl_expires, None);
}

#[test]
fn a_restart_reaches_the_credential_that_serves_not_a_copy() {
    let store = Rc::new(HeapStore::new(Backend::Memory));
    let mut chain = Chain::new(vec![Box::new(store.clone())], false);
    store_at(&mut chain, TOK, NOW.secs, Some(900));
    let scoped = "protocol=https\nhost=h\npath=acme/tool.git\nusername=u\npassword=t\n";
    store_at(&mut chain, scoped, NOW.secs + 60, Some(900));
    let recs = store.load_all().unwrap();
    assert_eq!(
        recs.len(),
        1,
        "no per-repository copy of the host-wide token"
    );
    assert_eq!(recs[0].ttl_expires, Some(NOW.secs + 960));
}

#[test]
fn auto_never_picks_the_memory_backend() {
    let config = |backend| Config {
        backend,
        file: "/nonexistent/credentials".into(),
        ttl: None,
        warn: None,
        data_dir: None,
    };
    let backends = |c: &Config| {
        Chain::open(c)
            .stores()
            .map(|s| s.backend())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        backends(&config(BackendChoice::Auto)),
        [Backend::Keychain, Backend::File]
    );
    assert_eq!(backends(&config(BackendChoice::Memory)), [Backend::Memory]);
}
