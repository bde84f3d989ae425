//! Remembers when a token's expiry warning was last shown, so `get` warns at most once per
//! 24 hours per token. The state file holds keys and stored-times only, never a secret; it
//! is the only file a `get` writes besides eviction, and a failure to read or write it only
//! means the warning may repeat. It gets the care every file of ours gets ([`crate::fsio`]):
//! never followed through a symlink, never opened blocking, replaced atomically, 0600.

use std::path::PathBuf;

use crate::key::Key;
use crate::record::Stamp;

/// The largest state file read (bytes); a larger one is not ours and is replaced.
pub const MAX_STATE: u64 = 256 * 1024;

/// How often a token's warning may repeat.
pub const WARN_EVERY: u64 = 86_400;

/// The warning state file.
pub struct WarnState {
    path: PathBuf,
}

impl WarnState {
    /// The state file `warned` inside `dir`.
    pub fn new(dir: PathBuf) -> WarnState {
        WarnState {
            path: dir.join("warned"),
        }
    }

    /// Whether to warn about the token stored for `key` at `stored`; if so, records `now`.
    pub fn should_warn(&self, key: &Key, stored: Stamp, now: u64) -> bool {
        let id = id_of(key, stored);
        // A state file that cannot be used (a FIFO, a symlink, too big) costs only its record.
        let old = crate::fsio::read_private(&self.path, MAX_STATE)
            .ok()
            .flatten()
            .map(|b| b.to_vec())
            .unwrap_or_default();
        let mut kept: Vec<&[u8]> = Vec::new();
        for line in old.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let Some(sp) = line.iter().position(|&b| b == b' ') else {
                continue;
            };
            let last: u64 = std::str::from_utf8(&line[..sp])
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            if now.saturating_sub(last) >= WARN_EVERY {
                continue; // forgotten: it may warn again anyway
            }
            if line[sp + 1..] == id[..] {
                return false;
            }
            kept.push(line);
        }
        let mut out = Vec::new();
        for line in kept {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
        out.extend_from_slice(format!("{now} ").as_bytes());
        out.extend_from_slice(&id);
        out.push(b'\n');
        let _ = self.write(&out);
        true
    }

    fn write(&self, data: &[u8]) -> Result<(), crate::fsio::OpenError> {
        let dir = crate::fsio::parent_of(&self.path);
        if dir.symlink_metadata().is_err() {
            crate::fsio::create_private_dir(&dir)
                .map_err(|e| crate::fsio::OpenError::Io("create", e))?;
        }
        crate::fsio::write_private(&self.path, data)
    }
}

/// A one-line identity of a token: its key (encoded like the credentials file) and when it
/// was stored, which changes whenever the token does.
fn id_of(key: &Key, stored: Stamp) -> Vec<u8> {
    let mut id = crate::store::format::encode_key(key);
    id.extend_from_slice(format!(" {}.{:09}", stored.secs, stored.nanos).as_bytes());
    id
}
