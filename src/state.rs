//! git's `state[]` (git ≥ 2.46): a proof, handed to git with a `get` answer, that lets the
//! `store` git sends after the credential worked (after every fetch and push) finish
//! without touching any backend.
//!
//! When the request announces `capability[]=state`, a `get` that answers with a credential
//! also answers `capability[]=state` and `state[]=pat:v1:<stored>:<proof>`. Git keeps it and
//! sends it back with its `store`; a store carrying a proof that matches what it brings is
//! done at once. Git older than 2.46 sends no capability and gets the ordinary round trip.
//!
//! The proof is HMAC-SHA256, under a random 256-bit key of this user (`<data dir>/state-key`,
//! 0600, made by the first `get` that needs it), over: the request's protocol, host and path;
//! everything of the answer that a store could change (username, password, authtype,
//! credential, refresh token, expiry); and the stored time of the credential served, which is
//! also shown in clear, so the state names which credential, in which version, was served.
//!
//! - **Nothing of the token can be recovered from it.** state[] travels through git's memory
//!   to every configured helper's `store` and `erase`, which may keep or log what they do not
//!   understand. Without the key, an HMAC value says nothing about its input (it is a
//!   pseudo-random function), and unlike a plain or salted-with-a-public-salt hash it cannot
//!   be tested against guesses offline, so even a weak password stays hidden. Whoever can read
//!   the key can read the credentials file beside it, and the keychain, anyway.
//! - **It can only spare a write.** A forged or replayed proof at most makes a store skip; it
//!   never makes anything be read, answered or written. A store of a different password (or
//!   expiry, or refresh token) through the same state gives a different proof, so it writes
//!   as always. Proofs are compared in constant time.
//! - **The short cut is the store rule, not an exception to it** (DESIGN §2): git stores what
//!   `get` answered, for the same request; the store rule would find the credential `get`
//!   serves already holding that secret, expiry and refresh token, and write nothing. The one
//!   difference is a credential changed by another process between the get and the store: a
//!   new token stored meanwhile stays (the round trip would have put the old one back), and
//!   one erased meanwhile stays erased.
//! - A key file that cannot be read or made (a read-only home, a loose mode, a symlink) only
//!   means no state[]: every store then takes the round trip.
//! - The memory backend gets none: there each use (git's store) restarts the kernel's
//!   timeout, so its store must reach it.

use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::fsio;
use crate::protocol::Request;
use crate::record::Record;

/// What every state of ours starts with (protocol.md: a helper tags its own state).
const TAG: &str = "pat:v1:";
/// The key file's name in the data dir.
const KEY_FILE: &str = "state-key";
const KEY_LEN: usize = 32;

/// Where this user's proof key lives; nothing is read or made until it is needed.
#[derive(Clone, Debug)]
pub struct StateKey {
    path: PathBuf,
}

/// The fields of a credential as git holds it after a `get` answer, and sends them back to
/// `store`.
#[derive(Default)]
struct Served<'a> {
    username: Option<&'a [u8]>,
    password: Option<&'a [u8]>,
    authtype: Option<&'a [u8]>,
    credential: Option<&'a [u8]>,
    refresh: Option<&'a [u8]>,
    expiry: Option<u64>,
}

impl StateKey {
    /// The key file in `data_dir`.
    pub fn in_dir(data_dir: &Path) -> StateKey {
        StateKey {
            path: data_dir.join(KEY_FILE),
        }
    }

    /// The `state[]` value for answering `req` with `rec` at `now` (the fields
    /// [`crate::rules::answer`] writes); `None` when there is no usable key.
    pub fn seal(
        &self,
        req: &Request,
        rec: &Record,
        authtype_capable: bool,
        now: u64,
    ) -> Option<Vec<u8>> {
        let key = self.load_or_make()?;
        let mut served = Served {
            username: rec.key.username.as_deref(),
            refresh: rec.oauth_refresh_token.as_ref().map(|s| s.expose()),
            ..Served::default()
        };
        // As `rules::answer`: an expired token is answered with username and refresh token.
        if !rec.token_expired(now) {
            if authtype_capable && rec.authtype.is_some() && rec.credential.is_some() {
                served.authtype = rec.authtype.as_deref();
                served.credential = rec.credential.as_ref().map(|s| s.expose());
            }
            if rec.key.username.is_some() {
                served.password = rec.password.as_ref().map(|s| s.expose());
            }
            served.expiry = rec.expires;
        }
        let stamp = format!("{}.{:09}", rec.stored.secs, rec.stored.nanos);
        let mac = proof(&key, &stamp, req, &served);
        let mut out = format!("{TAG}{stamp}:").into_bytes();
        out.extend(mac.iter().flat_map(|b| hex(*b)));
        Some(out)
    }

    /// Whether `req`, a `store`, carries a state of ours that proves a `get` answered exactly
    /// what it brings: then it changes nothing.
    pub fn proves(&self, req: &Request) -> bool {
        let ours: Vec<&[u8]> = req
            .state
            .iter()
            .filter_map(|s| s.strip_prefix(TAG.as_bytes()))
            .collect();
        if ours.is_empty() {
            return false;
        }
        let Some(key) = self.load() else {
            return false;
        };
        let authtype_capable = req.has_authtype_capability();
        let served = Served {
            username: req.username.as_deref(),
            password: req.password.as_ref().map(|s| s.expose()),
            authtype: req.authtype.as_deref().filter(|_| authtype_capable),
            credential: req
                .credential
                .as_ref()
                .map(|s| s.expose())
                .filter(|_| authtype_capable),
            refresh: req.oauth_refresh_token.as_ref().map(|s| s.expose()),
            expiry: req.password_expiry_utc,
        };
        ours.into_iter().any(|s| {
            let Some((stamp, given)) = split_state(s) else {
                return false;
            };
            let mac = proof(&key, stamp, req, &served);
            let mut want = Vec::with_capacity(2 * mac.len());
            want.extend(mac.iter().flat_map(|b| hex(*b)));
            crate::secret::ct_eq(&want, given)
        })
    }

    /// The key, if it exists and is ours.
    fn load(&self) -> Option<Zeroizing<Vec<u8>>> {
        let key = fsio::read_private(&self.path, KEY_LEN as u64).ok()??;
        (key.len() == KEY_LEN).then_some(key)
    }

    /// The key, made now if there is none: created once (a new file linked in place, never
    /// replacing one another process made meanwhile), 0600 in a 0700 directory.
    fn load_or_make(&self) -> Option<Zeroizing<Vec<u8>>> {
        match fsio::read_private(&self.path, KEY_LEN as u64) {
            Ok(Some(key)) => return (key.len() == KEY_LEN).then_some(key),
            Ok(None) => {}
            Err(_) => return None,
        }
        let mut key = Zeroizing::new(vec![0u8; KEY_LEN]);
        getrandom::fill(&mut key).ok()?;
        let dir = fsio::parent_of(&self.path);
        if dir.symlink_metadata().is_err() {
            fsio::create_private_dir(&dir).ok()?;
        }
        if !matches!(crate::fsperm::check_dir(&dir), Ok(Ok(()))) {
            return None;
        }
        let mut tmp = tempfile::Builder::new()
            .prefix(".gcp-")
            .tempfile_in(&dir)
            .ok()?;
        use std::io::Write;
        fsio::set_private(tmp.as_file()).ok()?;
        tmp.write_all(&key).ok()?;
        tmp.as_file().sync_all().ok()?;
        match tmp.persist_noclobber(&self.path) {
            Ok(_) => Some(key),
            // Another process made one first: use it.
            Err(_) => self.load(),
        }
    }
}

/// `(stamp, hex proof)` of a state after our tag.
fn split_state(s: &[u8]) -> Option<(&str, &[u8])> {
    let colon = s.iter().position(|&b| b == b':')?;
    let stamp = std::str::from_utf8(&s[..colon]).ok()?;
    let valid = stamp.split_once('.').is_some_and(|(a, b)| {
        !a.is_empty() && b.len() == 9 && (a.bytes().chain(b.bytes())).all(|c| c.is_ascii_digit())
    });
    valid.then_some((stamp, &s[colon + 1..]))
}

/// The HMAC of one answer: every field length-prefixed (absent ≠ empty), after a label
/// that names this use of the key.
fn proof(key: &[u8], stamp: &str, req: &Request, served: &Served<'_>) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(b"git-credential-pat state v1\0");
    let expiry = served.expiry.map(|e| e.to_string());
    for field in [
        Some(stamp.as_bytes()),
        req.protocol.as_deref(),
        req.host.as_deref(),
        req.path.as_deref(),
        served.username,
        served.password,
        served.authtype,
        served.credential,
        served.refresh,
        expiry.as_deref().map(str::as_bytes),
    ] {
        match field {
            None => mac.update(&[0]),
            Some(v) => {
                mac.update(&[1]);
                mac.update(&(v.len() as u64).to_be_bytes());
                mac.update(v);
            }
        }
    }
    mac.finalize().into_bytes().into()
}

fn hex(b: u8) -> [u8; 2] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Key;
    use crate::record::Stamp;
    use crate::secret::Secret;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("pat-state-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn rec(token: &str) -> Record {
        Record {
            key: Key::new(b"https", b"h.example", None, Some(b"u")),
            password: Some(Secret::from_slice(token.as_bytes())),
            oauth_refresh_token: None,
            authtype: None,
            credential: None,
            expires: Some(4_000_000_000),
            ttl_expires: None,
            stored: Stamp {
                secs: 1_700_000_000,
                nanos: 5,
            },
            learned: Default::default(),
        }
    }

    fn store_req(token: &str, state: &[u8]) -> Request {
        let mut lines = format!(
            "capability[]=state\nprotocol=https\nhost=h.example\nusername=u\npassword={token}\npassword_expiry_utc=4000000000\n"
        )
        .into_bytes();
        lines.extend_from_slice(b"state[]=");
        lines.extend_from_slice(state);
        lines.push(b'\n');
        Request::parse(&lines).unwrap()
    }

    #[test]
    fn a_store_of_what_get_served_is_proved_anything_else_is_not() {
        let d = dir("prove");
        let key = StateKey::in_dir(&d.join("data"));
        let get = Request::parse(b"capability[]=state\nprotocol=https\nhost=h.example\n").unwrap();
        let state = key
            .seal(&get, &rec("ghp_right"), false, 1_800_000_000)
            .unwrap();
        let shown = String::from_utf8(state.clone()).unwrap();
        assert!(shown.starts_with("pat:v1:1700000000.000000005:"), "{shown}");
        assert_eq!(shown.len(), "pat:v1:1700000000.000000005:".len() + 64);
        assert!(!shown.contains("ghp_right"));
        assert!(key.proves(&store_req("ghp_right", &state)));
        assert!(
            !key.proves(&store_req("ghp_wrong", &state)),
            "another token"
        );
        let mut other_expiry = store_req("ghp_right", &state);
        other_expiry.password_expiry_utc = Some(4_000_000_001);
        assert!(!key.proves(&other_expiry), "a new expiry is a change");
        let mut other_path = store_req("ghp_right", &state);
        other_path.path = Some(b"acme".to_vec());
        assert!(!key.proves(&other_path), "another request");
        let mut forged = state.clone();
        let last = forged.len() - 1;
        forged[last] = if forged[last] == b'0' { b'1' } else { b'0' };
        assert!(!key.proves(&store_req("ghp_right", &forged)));
        let restamped = shown.replacen("000000005", "000000006", 1);
        assert!(!key.proves(&store_req("ghp_right", restamped.as_bytes())));
        assert!(!key.proves(&store_req("ghp_right", b"")), "no proof");
        // Another user's key (another data dir) proves nothing.
        let stranger = StateKey::in_dir(&d.join("other"));
        let _ = stranger.seal(&get, &rec("x"), false, 1_800_000_000);
        assert!(!stranger.proves(&store_req("ghp_right", &state)));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    #[cfg(unix)]
    fn the_key_is_private_made_once_and_a_loose_one_is_not_used() {
        use std::os::unix::fs::PermissionsExt;
        let d = dir("key");
        let key = StateKey::in_dir(&d.join("data"));
        assert!(key.load().is_none());
        let first = key.load_or_make().unwrap();
        assert_eq!(key.load_or_make().unwrap(), first, "made once");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&key.path), 0o600);
        assert_eq!(mode(&d.join("data")), 0o700);
        std::fs::set_permissions(&key.path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(key.load_or_make().is_none(), "a loose key is not ours");
        let get = Request::parse(b"protocol=https\nhost=h.example\n").unwrap();
        assert!(key.seal(&get, &rec("t"), false, 0).is_none());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn states_of_others_and_malformed_ones_are_ignored() {
        assert_eq!(
            split_state(b"1.000000000:ab"),
            Some(("1.000000000", &b"ab"[..]))
        );
        for bad in [&b"1.0:ab"[..], b":ab", b"x.000000000:ab", b"1000000000"] {
            assert_eq!(split_state(bad), None);
        }
        let d = dir("others");
        let key = StateKey::in_dir(&d);
        let req = Request::parse(b"protocol=https\nhost=h\nstate[]=oauth:xyz\n").unwrap();
        assert!(!key.proves(&req));
        assert!(
            !d.exists(),
            "a store without our state reads no key and makes nothing"
        );
    }
}
