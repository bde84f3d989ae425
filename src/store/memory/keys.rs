//! Our keys in the user keyring: finding and decoding them, writing and removing them, and
//! turning errno into an [`Error`] that never shows a payload.
//!
//! - A key is ours when it is a `user` key owned by our uid whose description starts with
//!   [`super::PREFIX`]; no other key is read, changed or removed.
//! - A new key is made in the thread keyring, given its permissions and timeout there, and
//!   only then linked into `@u` (displacing a stale key of the same description): no other
//!   process ever sees it half made, with the kernel's default permissions (which let only a
//!   possessor read it). An existing key is updated in place (`add_key` on `@u` with its
//!   description), so a refused update (quota) leaves the old payload.
//! - A key is removed by unlinking it from `@u`, which gives its quota back at once
//!   (invalidating it first would keep 4 bytes of `@u`'s quota until the keyring is cleared),
//!   then invalidated, in case something else linked it elsewhere.

use std::ffi::CString;
use std::io;

use zeroize::Zeroizing;

use super::sys::{self, KeyId, MAX_DESCRIPTION, MAX_PAYLOAD, THREAD_KEYRING, USER_KEYRING};
use super::{PERM, PREFIX};
use crate::display::escape;
use crate::key::Key;
use crate::record::Record;
use crate::store::format::{self, Reason};
use crate::store::{Error, Quota};

/// A credential as loaded, with the key that holds it.
pub(super) struct Loaded {
    pub(super) record: Record,
    pub(super) id: KeyId,
}

/// What `KEYCTL_DESCRIBE` says about a key.
struct Described {
    ktype: Vec<u8>,
    uid: u32,
    description: Vec<u8>,
}

/// The description of the key that holds `key`: [`PREFIX`] and the key as the file format
/// writes it, so `keyctl search @u user DESCRIPTION` finds it.
pub(super) fn description(key: &Key) -> Vec<u8> {
    let mut out = PREFIX.as_bytes().to_vec();
    out.extend_from_slice(&format::encode_key(key));
    out
}

/// Reads and decodes every key of ours in `@u` whose description continues with `prefix`.
pub(super) fn list(prefix: &[u8]) -> Result<Vec<Loaded>, Error> {
    let uid = sys::euid();
    let mut wanted = PREFIX.as_bytes().to_vec();
    wanted.extend_from_slice(prefix);
    let mut described = vec![0u8; 256];
    // Grown (never reallocated in place) when a payload does not fit; wiped on drop.
    let mut payload = Zeroizing::new(vec![0u8; 4096]);
    let mut out = Vec::new();
    for id in keyring_ids()? {
        let Some(d) = describe(id, &mut described)? else {
            continue;
        };
        if d.ktype != b"user" || d.uid != uid || !d.description.starts_with(&wanted) {
            continue;
        }
        let Some(len) = read_payload(id, &d.description, &mut payload)? else {
            continue;
        };
        // One trailing LF is forgiven: `echo ... | keyctl padd` adds it.
        let line = payload[..len]
            .strip_suffix(b"\n")
            .unwrap_or(&payload[..len]);
        let record = format::decode(line).map_err(|reason| corrupt(id, &d.description, reason))?;
        if description(&record.key) != d.description {
            return Err(corrupt(
                id,
                &d.description,
                "its description is not the key inside it",
            ));
        }
        out.push(Loaded { record, id });
    }
    Ok(out)
}

/// The IDs of the keys linked into `@u` (which the kernel creates on first use).
fn keyring_ids() -> Result<Vec<KeyId>, Error> {
    let mut buf = vec![0u8; 1024];
    loop {
        let len = sys::read(USER_KEYRING, &mut buf).map_err(|e| failure("listing", e))?;
        if len <= buf.len() {
            return Ok(buf[..len]
                .chunks_exact(4)
                .map(|c| KeyId::from_ne_bytes([c[0], c[1], c[2], c[3]]))
                .collect());
        }
        // Keys were added since the size was learnt: ask again with room for them.
        buf = vec![0u8; len + 256];
    }
}

/// Describes key `id`; `None` when it is gone, expired, revoked or not visible to us.
fn describe(id: KeyId, buf: &mut Vec<u8>) -> Result<Option<Described>, Error> {
    let len = loop {
        match sys::describe(id, buf) {
            Ok(len) if len <= buf.len() => break len,
            Ok(len) => *buf = vec![0u8; len],
            Err(e) if vanished(&e) || e.raw_os_error() == Some(libc::EACCES) => return Ok(None),
            Err(e) => return Err(failure("describing", e)),
        }
    };
    let text = buf[..len].strip_suffix(b"\0").unwrap_or(&buf[..len]);
    let mut fields = text.splitn(5, |&b| b == b';');
    let (Some(ktype), Some(uid), Some(_gid), Some(_perm), Some(description)) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return Ok(None);
    };
    let Some(uid) = std::str::from_utf8(uid).ok().and_then(|u| u.parse().ok()) else {
        return Ok(None);
    };
    Ok(Some(Described {
        ktype: ktype.to_vec(),
        uid,
        description: description.to_vec(),
    }))
}

/// Reads key `id`'s payload into `buf`, growing it as needed; returns its length, or `None`
/// when the key is gone, expired or revoked.
fn read_payload(
    id: KeyId,
    description: &[u8],
    buf: &mut Zeroizing<Vec<u8>>,
) -> Result<Option<usize>, Error> {
    loop {
        match sys::read(id, buf) {
            Ok(len) if len <= buf.len() => return Ok(Some(len)),
            Ok(len) => *buf = Zeroizing::new(vec![0u8; len]),
            Err(e) if vanished(&e) => return Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::EACCES) => {
                return Err(Error::MemoryFailed(format!(
                    "kernel key {id} '{}' in your user keyring does not let its owner read it (it was not made by git-credential-pat); nothing was changed: remove it with 'keyctl unlink {id} @u', then store the token again",
                    shown(description)
                )));
            }
            Err(e) => return Err(failure("reading", e)),
        }
    }
}

/// Writes `rec` into its key, updated in place when it `exists`, else made anew, with the
/// kernel timeout its TTL deadline leaves at `now` (Unix seconds).
pub(super) fn write(exists: bool, rec: &Record, now: u64) -> Result<(), Error> {
    let line = format::encode(rec);
    let payload = &line[..line.len() - 1];
    let description = description(&rec.key);
    if description.len() > MAX_DESCRIPTION {
        return Err(Error::MemoryTooLarge {
            what: "description (the URL and username)",
            len: description.len(),
            limit: "4,095",
        });
    }
    if payload.len() > MAX_PAYLOAD {
        return Err(Error::MemoryTooLarge {
            what: "payload (the token and its attributes)",
            len: payload.len(),
            limit: "32,767",
        });
    }
    let timeout = timeout(rec.ttl_expires, now);
    let description = CString::new(description).map_err(|_| {
        Error::MemoryFailed("a key description holds a NUL byte (a bug): nothing was stored".into())
    })?;
    if exists {
        // add_key finds the key by its description in @u and updates it in place, keeping
        // its ID and permissions (KEYCTL_UPDATE would refuse a payload over a page). The
        // update clears the timeout; the permissions are set again in case the key was made
        // by hand.
        let id = sys::add_key(&description, payload, USER_KEYRING)
            .map_err(|e| failure("updating", e))?;
        return sys::set_perm(id, PERM)
            .and_then(|()| sys::set_timeout(id, timeout))
            .map_err(|e| failure("updating", e));
    }
    let id =
        sys::add_key(&description, payload, THREAD_KEYRING).map_err(|e| failure("creating", e))?;
    let staged = sys::set_perm(id, PERM)
        .and_then(|()| sys::set_timeout(id, timeout))
        .and_then(|()| sys::link(id, USER_KEYRING));
    // Linked into @u, or (on failure) linked nowhere, which destroys it.
    let _ = sys::unlink(id, THREAD_KEYRING);
    staged.map_err(|e| failure("creating", e))
}

/// Removes key `id` from `@u` and invalidates it.
pub(super) fn delete(id: KeyId) -> Result<(), Error> {
    match sys::unlink(id, USER_KEYRING) {
        Ok(()) => {}
        // Already gone from @u.
        Err(e) if vanished(&e) || e.raw_os_error() == Some(libc::ENOENT) => {}
        Err(e) => return Err(failure("removing", e)),
    }
    // Linked nowhere else, it is destroyed already (ENOKEY): that is the usual case.
    let _ = sys::invalidate(id);
    Ok(())
}

/// The kernel timeout for a TTL deadline at `now`: 0 (none) without one, at least 1 s.
pub(super) fn timeout(ttl_expires: Option<u64>, now: u64) -> u32 {
    ttl_expires.map_or(0, |t| {
        u32::try_from(t.saturating_sub(now))
            .unwrap_or(u32::MAX)
            .max(1)
    })
}

/// Whether `e` says the key is no longer there to use: removed, expired or revoked.
fn vanished(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOKEY | libc::EKEYEXPIRED | libc::EKEYREVOKED)
    )
}

/// Turns a failed key operation into our error: a kernel that refuses keyctl altogether,
/// the quota, or anything else.
pub(super) fn failure(op: &'static str, e: io::Error) -> Error {
    match e.raw_os_error() {
        Some(libc::ENOSYS | libc::EPERM) => Error::MemoryUnavailable(format!(
            "the kernel refuses its key retention service here ({op} a key: {e}), as container runtimes' default seccomp profiles do: use --backend=file"
        )),
        Some(libc::EDQUOT) => {
            let uid = sys::euid();
            Error::MemoryQuota {
                uid,
                quota: read_quota(uid),
            }
        }
        _ => Error::MemoryFailed(format!(
            "the kernel keyring failed {op} a key ({e}); nothing stored earlier was lost: see 'keyctl show @u', or use --backend=file"
        )),
    }
}

fn corrupt(id: KeyId, description: &[u8], reason: Reason) -> Error {
    Error::MemoryCorrupt {
        id,
        entry: shown(description),
        reason,
    }
}

/// A description as messages show it: escaped, without our prefix.
fn shown(description: &[u8]) -> String {
    escape(
        description
            .strip_prefix(PREFIX.as_bytes())
            .unwrap_or(description),
    )
}

/// The key quota of `uid`: its use from `/proc/key-users` (no line: nothing in use), its
/// limits from there or from `/proc/sys/kernel/keys`.
pub(super) fn read_quota(uid: u32) -> Option<Quota> {
    let users = std::fs::read_to_string("/proc/key-users").ok()?;
    if let Some(q) = parse_key_users(&users, uid) {
        return Some(q);
    }
    let limit =
        |path: &str| -> Option<u64> { std::fs::read_to_string(path).ok()?.trim().parse().ok() };
    Some(Quota {
        uid,
        keys: 0,
        max_keys: limit(Quota::maxkeys_file(uid))?,
        bytes: 0,
        max_bytes: limit(Quota::maxbytes_file(uid))?,
    })
}

/// `uid`'s line of `/proc/key-users`: `uid: usage nkeys/nikeys qnkeys/maxkeys qnbytes/maxbytes`.
pub(super) fn parse_key_users(text: &str, uid: u32) -> Option<Quota> {
    text.lines().find_map(|line| {
        let (who, rest) = line.split_once(':')?;
        if who.trim().parse::<u32>().ok()? != uid {
            return None;
        }
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let pair = |f: &str| -> Option<(u64, u64)> {
            let (a, b) = f.split_once('/')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        };
        let (keys, max_keys) = pair(fields.get(2)?)?;
        let (bytes, max_bytes) = pair(fields.get(3)?)?;
        Some(Quota {
            uid,
            keys,
            max_keys,
            bytes,
            max_bytes,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_users_lines_are_parsed_for_the_right_uid() {
        let text = "    0:     9 8/8 3/1000000 64/25000000\n 1000:     4 4/4 4/200 1234/20000\n";
        assert_eq!(
            parse_key_users(text, 1000),
            Some(Quota {
                uid: 1000,
                keys: 4,
                max_keys: 200,
                bytes: 1234,
                max_bytes: 20000
            })
        );
        assert_eq!(
            parse_key_users(text, 0).map(|q| q.max_bytes),
            Some(25_000_000)
        );
        assert_eq!(parse_key_users(text, 100), None);
    }

    #[test]
    fn the_timeout_is_what_the_deadline_leaves_at_least_a_second() {
        assert_eq!(timeout(None, 100), 0);
        assert_eq!(timeout(Some(1000), 100), 900);
        assert_eq!(timeout(Some(100), 100), 1);
        assert_eq!(timeout(Some(50), 100), 1);
        assert_eq!(timeout(Some(u64::MAX), 0), u32::MAX);
    }

    #[test]
    fn refusals_name_the_way_out_and_never_a_payload() {
        let refused = failure("creating", io::Error::from_raw_os_error(libc::EPERM));
        assert!(matches!(&refused, Error::MemoryUnavailable(m) if m.contains("--backend=file")));
        let missing = failure("listing", io::Error::from_raw_os_error(libc::ENOSYS));
        assert!(matches!(missing, Error::MemoryUnavailable(_)));
        let quota = failure("creating", io::Error::from_raw_os_error(libc::EDQUOT));
        assert!(matches!(quota, Error::MemoryQuota { .. }));
        let e = corrupt(7, b"git-credential-pat:https://h / @u", "unknown attribute");
        assert_eq!(
            e.to_string(),
            "kernel key 7 'https://h / @u' in your user keyring is corrupt (unknown attribute); nothing was changed: remove it with 'keyctl unlink 7 @u', then store the token again"
        );
        for e in [refused, e] {
            assert!(!e.to_string().contains('\n'));
        }
    }
}
