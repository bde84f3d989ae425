//! Remembers when a token's expiry warning was last shown, so `get` warns at most once per
//! 24 hours per token. The state file holds keys and stored-times only, never a secret; it
//! is the only file a `get` writes besides eviction, and a failure to write it only means
//! the warning may repeat.

use std::io::Write;
use std::path::PathBuf;

use crate::key::Key;
use crate::record::Stamp;

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
        let old = std::fs::read(&self.path).unwrap_or_default();
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

    fn write(&self, data: &[u8]) -> std::io::Result<()> {
        let dir = self.path.parent().expect("state file has a directory");
        if !dir.exists() {
            crate::store::file::create_private_dir(dir)?;
        }
        let tmp = dir.join(format!("warned.{}.tmp", std::process::id()));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        drop(f);
        std::fs::rename(&tmp, &self.path)
    }
}

/// A one-line identity of a token: its key (encoded like the credentials file) and when it
/// was stored, which changes whenever the token does.
fn id_of(key: &Key, stored: Stamp) -> Vec<u8> {
    let mut id = crate::store::format::encode_key(key);
    id.extend_from_slice(format!(" {}.{:09}", stored.secs, stored.nanos).as_bytes());
    id
}
