//! Our entries as Secret Service items: found by attribute, read in one go, created with
//! their label and every attribute in one call; and what goes wrong, as an [`Error`] whose
//! message says what to do.

use std::time::SystemTime;

use zbus::zvariant::OwnedObjectPath;

use super::platform::{self, SERVICE, account, item_attributes, label};
use super::secret_service::{Client, Failure, memo};
use super::{Loaded, corrupt};
use crate::display::escape;
use crate::key::HostKey;
use crate::record::Record;
use crate::store::Error;
use crate::store::format;

/// The connection, shared by the worker threads.
pub(super) type Conn = Client;
/// An item.
pub(super) type Handle = OwnedObjectPath;

fn env(name: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(name)
}

/// Connects to the session bus.
pub(super) fn connect() -> Result<Conn, Error> {
    Client::connect().map_err(|f| describe("connecting", f))
}

/// Why the keychain is out of reach, when this bus was found without a Secret Service less
/// than [`memo::TTL`] ago.
pub(super) fn remembered_absence() -> Option<String> {
    memo::remembered(&env, SystemTime::now()).then(|| {
        format!(
            "{} (learned less than {} s ago)",
            absent_message("searching"),
            memo::TTL.as_secs()
        )
    })
}

/// Every item of ours, or only `host`'s: one search, then (when it found any) their
/// attributes and secrets.
pub(super) fn read(client: &Client, host: Option<&HostKey>) -> Result<Vec<Loaded>, Error> {
    let spec = platform::search_spec(host);
    let prefix = host.map(format::group_prefix);
    let items = client.search(&spec).map_err(|f| {
        if matches!(f, Failure::Absent) {
            memo::remember(&env);
        }
        describe("searching", f)
    })?;
    let found = client.read(&items).map_err(|f| describe("reading", f))?;
    let mut out: Vec<Loaded> = Vec::with_capacity(found.len());
    for item in found {
        let (Some(service), Some(account)) = (
            item.attributes.get("service"),
            item.attributes.get("username"),
        ) else {
            continue;
        };
        if service != SERVICE
            || prefix
                .as_ref()
                .is_some_and(|p| !account.as_bytes().starts_with(p))
        {
            continue;
        }
        // One trailing LF is forgiven: `echo ... | secret-tool store` adds it.
        let line = item.secret.strip_suffix(b"\n").unwrap_or(&item.secret);
        let record = format::decode(line).map_err(|reason| corrupt(account, reason))?;
        if format::encode_key(&record.key) != account.as_bytes() {
            return Err(corrupt(account, "its account is not the key inside it"));
        }
        if out.iter().any(|l| l.record.key == record.key) {
            return Err(corrupt(account, "two entries hold this key"));
        }
        out.push(Loaded {
            record,
            handle: item.path,
        });
    }
    Ok(out)
}

/// Writes `rec` into `item`, or into a new item for its key.
pub(super) fn write(client: &Client, item: Option<Handle>, rec: &Record) -> Result<(), Error> {
    let line = format::encode(rec);
    let secret = &line[..line.len() - 1];
    let result = match item {
        Some(path) => client.set_secret(&path.as_ref(), secret),
        None => {
            let attrs = item_attributes(&rec.key);
            // An item of this key with `service` and `username` only (an older version set
            // the other attributes in a second call, which a crash could skip) is repaired,
            // not doubled.
            let bare = [
                ("service", SERVICE.to_owned()),
                ("username", account(&rec.key)),
            ];
            match client.search(&bare) {
                Ok(found) if !found.is_empty() => client
                    .set_secret(&found[0].as_ref(), secret)
                    .and_then(|()| client.set_attributes(&found[0].as_ref(), &attrs)),
                Ok(_) => client.create(&label(&rec.key), &attrs, secret),
                Err(e) => Err(e),
            }
        }
    };
    result.map_err(|f| describe("writing", f))
}

/// Deletes `item` (one already gone is fine).
pub(super) fn delete(client: &Client, item: Handle) -> Result<(), Error> {
    client
        .delete(&item.as_ref())
        .map_err(|f| describe("deleting", f))
}

fn absent_message(op: &str) -> String {
    format!(
        "no Secret Service on the D-Bus session bus, so {} is out of reach ({op}): {}, or use --backend=file",
        platform::NAME,
        platform::START
    )
}

/// Turns a failure into our error: out of reach or locked is `KeychainUnavailable`,
/// anything else `KeychainFailed`. Nothing the service sent is shown raw.
fn describe(op: &'static str, f: Failure) -> Error {
    use platform::{CHECK, NAME, START, UNLOCK};
    match f {
        Failure::Bus(detail) => Error::KeychainUnavailable(format!(
            "cannot use {NAME} ({op}: {}): {START}, or use --backend=file",
            escape(detail.as_bytes())
        )),
        Failure::Absent => Error::KeychainUnavailable(absent_message(op)),
        Failure::StaleBus(address) => Error::KeychainUnavailable(format!(
            "DBUS_SESSION_BUS_ADDRESS names a session bus that is gone ({}), so {NAME} is out of reach ({op}): it is left over from an earlier session (tmux, screen, SSH); run unset DBUS_SESSION_BUS_ADDRESS, or use --backend=file",
            escape(address.as_bytes())
        )),
        Failure::Locked => Error::KeychainUnavailable(format!(
            "{NAME} is locked and was not unlocked ({op}): {UNLOCK}, or use --backend=file"
        )),
        Failure::NoCollection => Error::KeychainUnavailable(format!(
            "{NAME} is locked or has no default keyring ({op}): {UNLOCK}, or use --backend=file"
        )),
        Failure::NoSuchObject => Error::KeychainFailed(format!(
            "{NAME} lost an entry while it was in use ({op}): try again"
        )),
        Failure::Refused(name) => Error::KeychainFailed(format!(
            "{NAME} refused the operation ({op}: {}): {CHECK}, or use --backend=file",
            escape(name.as_bytes())
        )),
        Failure::Garbled(what) => Error::KeychainFailed(format!(
            "{NAME} sent {what} ({op}): {CHECK}, or use --backend=file"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_and_locked_are_unavailable_other_failures_are_not() {
        for (f, unavailable, words) in [
            (
                Failure::Absent,
                true,
                "no Secret Service on the D-Bus session bus",
            ),
            (Failure::Locked, true, "unlock it"),
            (Failure::NoCollection, true, "no default keyring"),
            (Failure::Bus("refused".into()), true, "cannot use"),
            (
                Failure::Refused("org.x.Error\x1b".into()),
                false,
                r"org.x.Error\x1B",
            ),
            (
                Failure::Garbled("a secret that does not decrypt"),
                false,
                "does not decrypt",
            ),
        ] {
            let e = describe("reading", f);
            assert_eq!(e.is_unreachable(), unavailable, "{e}");
            let m = e.to_string();
            assert!(m.contains(words), "{m}");
            assert!(!m.contains('\n') && !m.contains('\x1b'), "{m}");
        }
    }
}
