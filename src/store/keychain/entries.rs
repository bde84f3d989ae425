//! Our keychain entries through the `keyring` crates (macOS Keychain, Windows Credential
//! Manager): reading and decoding them, writing and deleting them, and turning what goes
//! wrong into an [`Error`] that never shows the secret bytes some keyring errors carry.

use std::collections::HashMap;

use keyring_core::{Entry, Error as KeyringError};
use zeroize::{Zeroize, Zeroizing};

use super::platform::{self, SERVICE};
use super::{Loaded, corrupt};
use crate::display::escape;
use crate::key::HostKey;
use crate::record::Record;
use crate::store::Error;
use crate::store::format;

/// Nothing to hold between calls: `keyring` keeps its store itself.
#[derive(Clone)]
pub(super) struct Conn;
/// An entry, found or made.
pub(super) type Handle = Entry;

/// Lets `keyring` pick the platform store and connect (once per process).
pub(super) fn connect() -> Result<Conn, Error> {
    keyring::Entry::store_status()
        .as_ref()
        .map_err(|e| match describe("connecting", e) {
            Error::KeychainFailed(m) => Error::KeychainUnavailable(m),
            other => other,
        })
        .map(|_| Conn)
}

/// Never remembered here: these keychains are always there.
pub(super) fn remembered_absence() -> Option<String> {
    None
}

/// Every entry of ours, or only `host`'s.
pub(super) fn read(_: &Conn, host: Option<&HostKey>) -> Result<Vec<Loaded>, Error> {
    let spec = platform::search_spec(host);
    let prefix = host.map(format::group_prefix);
    read_spec(&spec, prefix.as_deref())
}

/// Reads and decodes the entries `spec` finds, keeping those of our service whose account
/// starts with `prefix`.
fn read_spec(spec: &[(&'static str, String)], prefix: Option<&[u8]>) -> Result<Vec<Loaded>, Error> {
    let spec: HashMap<&str, &str> = spec.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // An empty search matches every item of every application.
    debug_assert!(!spec.is_empty());
    let found = Entry::search(&spec).map_err(|e| describe_owned("searching", e))?;
    let mut out: Vec<Loaded> = Vec::new();
    for entry in found {
        let Some((service, account)) =
            platform::specifiers(&entry).map_err(|e| describe_owned("reading", e))?
        else {
            continue;
        };
        if service != SERVICE || prefix.is_some_and(|p| !account.as_bytes().starts_with(p)) {
            continue;
        }
        let secret = match entry.get_secret() {
            Ok(secret) => Zeroizing::new(secret),
            // Deleted between the search and now.
            Err(KeyringError::NoEntry) => continue,
            Err(e) => return Err(describe_owned("reading", e)),
        };
        // One trailing LF is forgiven: `echo ... | secret-tool store` adds it.
        let line = secret.strip_suffix(b"\n").unwrap_or(&secret);
        let record = format::decode(line).map_err(|reason| corrupt(&account, reason))?;
        if format::encode_key(&record.key) != account.as_bytes() {
            return Err(corrupt(&account, "its account is not the key inside it"));
        }
        if out.iter().any(|l| l.record.key == record.key) {
            return Err(corrupt(&account, "two entries hold this key"));
        }
        out.push(Loaded {
            record,
            handle: entry,
        });
    }
    Ok(out)
}

/// Writes `rec` into `entry`, or into a new entry for its key.
pub(super) fn write(_: &Conn, entry: Option<Entry>, rec: &Record) -> Result<(), Error> {
    let line = format::encode(rec);
    let secret = &line[..line.len() - 1];
    let entry = match entry {
        Some(entry) => entry,
        None => platform::new_entry(&rec.key).map_err(|e| describe_owned("writing", e))?,
    };
    entry
        .set_secret(secret)
        .map_err(|e| describe_owned("writing", e))?;
    platform::after_write(&entry, &rec.key).map_err(|e| describe_owned("writing", e))
}

pub(super) fn delete(_: &Conn, entry: Entry) -> Result<(), Error> {
    match entry.delete_credential() {
        Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
        Err(e) => Err(describe_owned("deleting", e)),
    }
}

/// Like [`describe`], and wipes the secret bytes some errors carry.
fn describe_owned(op: &'static str, e: KeyringError) -> Error {
    let out = describe(op, &e);
    match e {
        KeyringError::BadEncoding(mut bytes) | KeyringError::BadDataFormat(mut bytes, _) => {
            bytes.zeroize()
        }
        _ => {}
    }
    out
}

/// Turns a keyring error into ours: out of reach or locked is `KeychainUnavailable`,
/// anything else `KeychainFailed`. Never shows the bytes some variants carry.
fn describe(op: &'static str, e: &KeyringError) -> Error {
    use platform::{CHECK, NAME, START, UNLOCK};
    let detail = |err: &dyn std::fmt::Display| escape(err.to_string().as_bytes());
    match e {
        KeyringError::NoStorageAccess(err) => Error::KeychainUnavailable(format!(
            "{NAME} is locked or has no default keyring ({op}: {}): {UNLOCK}, or use --backend=file",
            detail(err)
        )),
        KeyringError::PlatformFailure(err) => Error::KeychainUnavailable(format!(
            "cannot use {NAME} ({op}: {}): {START}, or use --backend=file",
            detail(err)
        )),
        KeyringError::NoDefaultStore => Error::KeychainUnavailable(format!(
            "cannot use {NAME} ({op}: no credential store): {START}, or use --backend=file"
        )),
        KeyringError::BadEncoding(_) | KeyringError::BadDataFormat(..) => Error::KeychainFailed(
            format!("{NAME} returned data it cannot decode ({op}): {CHECK}, or use --backend=file"),
        ),
        KeyringError::TooLong(what, limit) => Error::KeychainFailed(format!(
            "{NAME} refused a {} longer than its limit of {limit} ({op}): use --backend=file for this credential",
            detail(what)
        )),
        KeyringError::Ambiguous(entries) => Error::KeychainFailed(format!(
            "{NAME} holds {} entries for one key ({op}): {CHECK}",
            entries.len()
        )),
        KeyringError::Invalid(..)
        | KeyringError::BadStoreFormat(_)
        | KeyringError::NotSupportedByStore(_) => Error::KeychainFailed(format!(
            "{NAME} refused the operation ({op}: {}): {CHECK}, or use --backend=file",
            detail(e)
        )),
        KeyringError::NoEntry => Error::KeychainFailed(format!(
            "{NAME} lost an entry while it was in use ({op}): try again"
        )),
        // A variant added later might carry secret bytes: show nothing of it.
        _ => Error::KeychainFailed(format!(
            "{NAME} failed with an unexpected error ({op}): {CHECK}, or use --backend=file"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_never_show_secret_bytes() {
        let token = b"ghp_secret_token".to_vec();
        for e in [
            KeyringError::BadEncoding(token.clone()),
            KeyringError::BadDataFormat(token.clone(), "bad".into()),
        ] {
            let shown = describe_owned("reading", e).to_string();
            assert!(!shown.contains("ghp_secret"), "{shown}");
            assert!(shown.contains("cannot decode"), "{shown}");
        }
    }

    #[test]
    fn locked_and_unreachable_are_unavailable_other_failures_are_not() {
        let locked = describe("reading", &KeyringError::NoStorageAccess("locked".into()));
        assert!(matches!(&locked, Error::KeychainUnavailable(m) if m.contains("unlock it")));
        let gone = describe(
            "connecting",
            &KeyringError::PlatformFailure("no bus".into()),
        );
        assert!(matches!(gone, Error::KeychainUnavailable(_)));
        let long = describe("writing", &KeyringError::TooLong("password".into(), 2560));
        assert!(matches!(&long, Error::KeychainFailed(m) if m.contains("limit of 2560")));
        for e in [locked, long] {
            let m = e.to_string();
            assert!(!m.contains('\n') && m.contains("--backend=file"), "{m}");
        }
    }
}
