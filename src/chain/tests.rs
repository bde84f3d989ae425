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
