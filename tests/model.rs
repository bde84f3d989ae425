//! Model-based test of the credential model (DESIGN §2, §4, §5).
//!
//! Random sequences of git's store/get/erase and the people's add/remove, with a clock that
//! moves, run against the real backend chain (on the heap store, and on the real file
//! backend) and against a small reference model written straight from DESIGN §2. After every
//! step the answers of every get in a small universe of hosts, paths and users must agree,
//! and a store that changes no answer must add no credential.

use std::sync::atomic::{AtomicUsize, Ordering};

use git_credential_pat::app::{self, Ctx};
use git_credential_pat::chain::Chain;
use git_credential_pat::key::{HostKey, Key};
use git_credential_pat::manage;
use git_credential_pat::protocol::Request;
use git_credential_pat::record::{Record, Stamp};
use git_credential_pat::secret::Secret;
use git_credential_pat::store::file::FileStore;
use git_credential_pat::store::heap::HeapStore;
use git_credential_pat::store::{Backend, Store};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const HOSTS: [&str; 2] = ["h0", "h1"];
const USERS: [&str; 2] = ["u", "v"];
/// Request paths as git may send them, dot segments included.
const REQ_PATHS: [&str; 7] = ["a", "a/b", "c", "a/../c", "../a", "a/./b/", "a/b.git"];
/// Paths a person gives to `add`/`remove`.
const KEY_PATHS: [&str; 3] = ["a", "a/b", "c"];

/// A request path as the model understands it, spelled out by hand for the universe above
/// (not computed by the code under test).
#[derive(Clone, Copy, Debug, PartialEq)]
enum MPath {
    Absent,
    At(&'static str),
    Climbs,
}

fn model_path(raw: Option<&str>) -> MPath {
    match raw {
        None => MPath::Absent,
        Some("a") => MPath::At("a"),
        Some("a/b") | Some("a/./b/") | Some("a/b.git") => MPath::At("a/b"),
        Some("c") | Some("a/../c") => MPath::At("c"),
        Some("../a") => MPath::Climbs,
        Some(other) => unreachable!("{other}"),
    }
}

#[derive(Clone, Debug)]
struct MCred {
    host: usize,
    path: Option<&'static str>,
    user: usize,
    token: u8,
    expires: Option<u64>,
    stored: (u64, u32),
}

#[derive(Clone, Debug)]
enum Op {
    Store {
        host: usize,
        path: Option<usize>,
        user: usize,
        token: u8,
        expires_in: Option<u64>,
    },
    Get {
        host: usize,
        path: Option<usize>,
        user: Option<usize>,
    },
    Erase {
        host: usize,
        path: Option<usize>,
        user: Option<usize>,
        token: Option<u8>,
    },
    Add {
        host: usize,
        path: Option<usize>,
        user: usize,
        token: u8,
    },
    Remove {
        host: usize,
        path: Option<usize>,
        user: Option<usize>,
    },
    Tick(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let host = 0..HOSTS.len();
    let user = 0..USERS.len();
    let req_path = proptest::option::of(0..REQ_PATHS.len());
    let key_path = proptest::option::of(0..KEY_PATHS.len());
    let token = 0u8..4;
    prop_oneof![
        4 => (host.clone(), req_path.clone(), user.clone(), token.clone(), proptest::option::weighted(0.3, 1u64..120))
            .prop_map(|(host, path, user, token, expires_in)| Op::Store { host, path, user, token, expires_in }),
        2 => (host.clone(), req_path.clone(), proptest::option::of(user.clone()))
            .prop_map(|(host, path, user)| Op::Get { host, path, user }),
        2 => (host.clone(), req_path, proptest::option::of(user.clone()), proptest::option::of(token.clone()))
            .prop_map(|(host, path, user, token)| Op::Erase { host, path, user, token }),
        1 => (host.clone(), key_path.clone(), user.clone(), token)
            .prop_map(|(host, path, user, token)| Op::Add { host, path, user, token }),
        1 => (host, key_path, proptest::option::of(user))
            .prop_map(|(host, path, user)| Op::Remove { host, path, user }),
        1 => (0u64..60).prop_map(Op::Tick),
    ]
}

/// The reference model: DESIGN §2 read literally, over a flat list.
#[derive(Default)]
struct Model {
    creds: Vec<MCred>,
}

fn serves(stored: Option<&str>, req: MPath) -> bool {
    match (stored, req) {
        (None, _) => true,
        (Some(p), MPath::At(r)) => r == p || r.starts_with(&format!("{p}/")),
        (Some(_), _) => false,
    }
}

fn specificity(path: Option<&str>) -> usize {
    path.map_or(0, |p| p.len() + 1)
}

impl Model {
    /// The credential get answers with, without evicting.
    fn pick(&self, host: usize, path: MPath, user: Option<usize>, now: u64) -> Option<usize> {
        (0..self.creds.len())
            .filter(|&i| {
                let c = &self.creds[i];
                c.host == host
                    && user.is_none_or(|u| c.user == u)
                    && serves(c.path, path)
                    && c.expires.is_none_or(|e| now < e)
            })
            .max_by_key(|&i| (specificity(self.creds[i].path), self.creds[i].stored))
    }

    fn answer(&self, host: usize, path: MPath, user: Option<usize>, now: u64) -> String {
        match self.pick(host, path, user, now) {
            None => String::new(),
            Some(i) => {
                let c = &self.creds[i];
                let mut s = format!("username={}\npassword=tok{}\n", USERS[c.user], c.token);
                if let Some(e) = c.expires {
                    s.push_str(&format!("password_expiry_utc={e}\n"));
                }
                s
            }
        }
    }

    /// get: answers, and evicts the expired credentials the request reached.
    fn get(&mut self, host: usize, path: MPath, user: Option<usize>, now: u64) -> String {
        let out = self.answer(host, path, user, now);
        self.creds.retain(|c| {
            !(c.host == host
                && user.is_none_or(|u| c.user == u)
                && serves(c.path, path)
                && c.expires.is_some_and(|e| now >= e))
        });
        out
    }

    fn store(
        &mut self,
        host: usize,
        path: MPath,
        user: usize,
        token: u8,
        expires: Option<u64>,
        now: (u64, u32),
    ) {
        if expires.is_some_and(|e| e <= now.0) {
            return;
        }
        let key_path = match path {
            MPath::Climbs => return,
            MPath::Absent => None,
            MPath::At(p) => Some(p),
        };
        if let Some(i) = self.pick(host, path, Some(user), now.0)
            && self.creds[i].token == token
        {
            if expires.is_some() {
                self.creds[i].expires = expires;
            }
            return;
        }
        match self
            .creds
            .iter_mut()
            .find(|c| c.host == host && c.path == key_path && c.user == user)
        {
            Some(c) if c.token == token => {
                if expires.is_some() {
                    c.expires = expires;
                }
            }
            Some(c) => {
                c.token = token;
                c.expires = expires;
                c.stored = now;
            }
            None => self.creds.push(MCred {
                host,
                path: key_path,
                user,
                token,
                expires,
                stored: now,
            }),
        }
    }

    fn erase(&mut self, host: usize, path: MPath, user: Option<usize>, token: Option<u8>) {
        self.creds.retain(|c| {
            let path_ok = match path {
                MPath::Absent => true,
                p => serves(c.path, p),
            };
            !(c.host == host
                && path_ok
                && user.is_none_or(|u| c.user == u)
                && token.is_none_or(|t| c.token == t))
        });
    }

    fn is_copy(c: &MCred, of: &MCred) -> bool {
        c.host == of.host
            && c.user == of.user
            && c.path != of.path
            && serves(of.path, c.path.map_or(MPath::Absent, MPath::At))
            && c.token == of.token
    }

    fn add(
        &mut self,
        host: usize,
        path: Option<&'static str>,
        user: usize,
        token: u8,
        now: (u64, u32),
    ) {
        let old = self
            .creds
            .iter()
            .find(|c| c.host == host && c.path == path && c.user == user && c.token != token)
            .cloned();
        match self
            .creds
            .iter_mut()
            .find(|c| c.host == host && c.path == path && c.user == user)
        {
            Some(c) if c.token == token => {}
            Some(c) => {
                c.token = token;
                c.expires = None;
                c.stored = now;
            }
            None => self.creds.push(MCred {
                host,
                path,
                user,
                token,
                expires: None,
                stored: now,
            }),
        }
        if let Some(old) = old {
            for c in self.creds.iter_mut().filter(|c| Model::is_copy(c, &old)) {
                c.token = token;
                c.expires = None;
                c.stored = now;
            }
        }
    }

    fn remove(&mut self, host: usize, path: Option<&'static str>, user: Option<usize>) -> usize {
        let targets: Vec<MCred> = self
            .creds
            .iter()
            .filter(|c| c.host == host && c.path == path && user.is_none_or(|u| c.user == u))
            .cloned()
            .collect();
        let before = self.creds.len();
        self.creds.retain(|c| {
            !targets.iter().any(|t| {
                (c.host == t.host && c.path == t.path && c.user == t.user) || Model::is_copy(c, t)
            })
        });
        before - self.creds.len()
    }
}

/// The system under test: one run's chain over a store that outlives the runs.
struct Real<'a> {
    store: &'a dyn Fn() -> Box<dyn Store>,
}

fn request(
    host: usize,
    path: Option<&str>,
    user: Option<usize>,
    token: Option<u8>,
    expires: Option<u64>,
) -> Request {
    let mut s = format!("protocol=https\nhost={}\n", HOSTS[host]);
    if let Some(p) = path {
        s.push_str(&format!("path={p}\n"));
    }
    if let Some(u) = user {
        s.push_str(&format!("username={}\n", USERS[u]));
    }
    if let Some(t) = token {
        s.push_str(&format!("password=tok{t}\n"));
    }
    if let Some(e) = expires {
        s.push_str(&format!("password_expiry_utc={e}\n"));
    }
    Request::parse(s.as_bytes()).unwrap()
}

impl Real<'_> {
    fn chain(&self) -> Chain {
        Chain::new(vec![(self.store)()], false)
    }

    fn run<T>(&self, now: Stamp, f: impl FnOnce(&mut Chain, &mut Ctx<'_>) -> T) -> T {
        let mut sink = Vec::new();
        let mut ctx = Ctx {
            now,
            ttl: None,
            warn: None,
            warn_state: None,
            state_key: None,
            notices: &mut sink,
        };
        f(&mut self.chain(), &mut ctx)
    }

    fn get(&self, req: &Request, now: Stamp) -> String {
        let answer = self.run(now, |c, ctx| app::get(c, req, ctx)).expect("get");
        String::from_utf8(answer.as_bytes().to_vec()).unwrap()
    }

    fn count(&self) -> usize {
        manage::list(&mut self.chain()).expect("list").len()
    }
}

static OPS: AtomicUsize = AtomicUsize::new(0);

/// Every get of the universe, through the real chain (which evicts) and the model (which
/// evicts the same), compared.
fn compare_all(real: &Real<'_>, model: &mut Model, now: Stamp) -> Result<(), TestCaseError> {
    for (host, name) in HOSTS.iter().enumerate() {
        for path in std::iter::once(None).chain(REQ_PATHS.iter().map(|p| Some(*p))) {
            for user in [None, Some(0), Some(1)] {
                let got = real.get(&request(host, path, user, None, None), now);
                let want = model.get(host, model_path(path), user, now.secs);
                prop_assert_eq!(
                    &got,
                    &want,
                    "get host={} path={:?} user={:?}",
                    name,
                    path,
                    user
                );
            }
        }
    }
    Ok(())
}

/// Every answer of the universe by the model alone (no eviction).
fn answers(model: &Model, now: u64) -> Vec<String> {
    let mut out = Vec::new();
    for host in 0..HOSTS.len() {
        for path in std::iter::once(None).chain(REQ_PATHS.iter().map(|p| Some(*p))) {
            for user in [None, Some(0), Some(1)] {
                out.push(model.answer(host, model_path(path), user, now));
            }
        }
    }
    out
}

fn run_ops(real: &Real<'_>, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut model = Model::default();
    let mut secs = 1_800_000_000u64;
    for (n, op) in ops.iter().enumerate() {
        OPS.fetch_add(1, Ordering::Relaxed);
        // A unique instant per step, so "the most recently stored" is never a tie.
        let now = Stamp {
            secs,
            nanos: n as u32,
        };
        let stamp = (secs, n as u32);
        match *op {
            Op::Store {
                host,
                path,
                user,
                token,
                expires_in,
            } => {
                let path = path.map(|i| REQ_PATHS[i]);
                let expires = expires_in.map(|d| secs + d);
                let before = answers(&model, secs);
                let count_before = real.count();
                let req = request(host, path, Some(user), Some(token), expires);
                real.run(now, |c, ctx| app::store(c, &req, ctx))
                    .expect("store");
                model.store(host, model_path(path), user, token, expires, stamp);
                if answers(&model, secs) == before {
                    prop_assert!(
                        real.count() <= count_before,
                        "a store that changed no answer added a credential: {:?}",
                        op
                    );
                }
            }
            Op::Get { host, path, user } => {
                let path = path.map(|i| REQ_PATHS[i]);
                let got = real.get(&request(host, path, user, None, None), now);
                prop_assert_eq!(got, model.get(host, model_path(path), user, secs));
            }
            Op::Erase {
                host,
                path,
                user,
                token,
            } => {
                let path = path.map(|i| REQ_PATHS[i]);
                let req = request(host, path, user, token, None);
                real.run(now, |c, ctx| app::erase(c, &req, ctx))
                    .expect("erase");
                model.erase(host, model_path(path), user, token);
            }
            Op::Add {
                host,
                path,
                user,
                token,
            } => {
                let path = path.map(|i| KEY_PATHS[i]);
                let new = Record {
                    key: Key::new(
                        b"https",
                        HOSTS[host].as_bytes(),
                        path.map(str::as_bytes),
                        Some(USERS[user].as_bytes()),
                    ),
                    password: Some(Secret::from_slice(format!("tok{token}").as_bytes())),
                    oauth_refresh_token: None,
                    authtype: None,
                    credential: None,
                    expires: None,
                    ttl_expires: None,
                    stored: now,
                    learned: Default::default(),
                };
                manage::add(&mut real.chain(), &new).expect("add");
                model.add(host, path, user, token, stamp);
            }
            Op::Remove { host, path, user } => {
                let path = path.map(|i| KEY_PATHS[i]);
                let h = HostKey::new(b"https", HOSTS[host].as_bytes());
                let user_bytes = user.map(|u| USERS[u].as_bytes());
                let gone =
                    manage::remove(&mut real.chain(), &h, path.map(str::as_bytes), user_bytes)
                        .expect("remove");
                let want = model.remove(host, path, user);
                prop_assert_eq!(gone.len(), want, "remove {:?}", op);
            }
            Op::Tick(d) => secs += d,
        }
        compare_all(
            real,
            &mut model,
            Stamp {
                secs,
                nanos: n as u32,
            },
        )?;
    }
    Ok(())
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn the_chain_agrees_with_the_model_over_ten_thousand_random_operations() {
    let before = OPS.load(Ordering::Relaxed);
    runner(64)
        .run(&proptest::collection::vec(op(), 160..=160), |ops| {
            let heap = std::rc::Rc::new(HeapStore::new(Backend::File));
            let make = {
                let heap = heap.clone();
                move || Box::new(heap.clone()) as Box<dyn Store>
            };
            run_ops(&Real { store: &make }, &ops)
        })
        .unwrap();
    let ran = OPS.load(Ordering::Relaxed) - before;
    assert!(ran >= 10_000, "only {ran} operations ran");
}

#[test]
fn the_file_backend_agrees_with_the_model() {
    let base = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("model-{}", std::process::id()));
    let case = AtomicUsize::new(0);
    runner(8)
        .run(&proptest::collection::vec(op(), 100..=100), |ops| {
            let dir = base.join(case.fetch_add(1, Ordering::Relaxed).to_string());
            let file = dir.join("credentials");
            let make = move || Box::new(FileStore::new(file.clone())) as Box<dyn Store>;
            let result = run_ops(&Real { store: &make }, &ops);
            let _ = std::fs::remove_dir_all(&dir);
            result
        })
        .unwrap();
    let _ = std::fs::remove_dir_all(&base);
}
