//! git-credential-store's format: the sources `import` read whole, and their lines (one
//! `https://user:token@host[/path]` each) parsed into the records it stores. No I/O.

use std::path::PathBuf;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::people::url::CredUrl;
use crate::record::{Record, Stamp};
use crate::rules;
use crate::secret::Secret;

/// One input read whole: its name for messages, its path if it is a file, its bytes.
pub(super) struct Source {
    /// A path or `standard input`, escaped for messages.
    pub(super) name: String,
    /// The file read, if it was one.
    pub(super) path: Option<PathBuf>,
    /// Its bytes, wiped when dropped.
    pub(super) data: Zeroizing<Vec<u8>>,
}

impl Source {
    /// The file at `path`, read as `data`.
    pub(super) fn file(path: PathBuf, data: Vec<u8>) -> Source {
        Source {
            name: crate::display::escape_path(&path),
            path: Some(path),
            data: Zeroizing::new(data),
        }
    }
}

/// What the sources hold.
#[derive(Default)]
pub(super) struct Parsed {
    /// The credentials, one per key: the first source (and line) wins, as
    /// git-credential-store reads them.
    pub(super) records: Vec<Record>,
    /// `NAME line N` of each line without a user or password.
    pub(super) skipped: Vec<String>,
}

/// Parses every line of `sources` into a record stored at `now` under the TTL `ttl`. Blank
/// lines are passed over; a malformed one is an error that names it (never its contents).
pub(super) fn parse(sources: &[Source], ttl: Option<u64>, now: Stamp) -> Result<Parsed> {
    let mut parsed = Parsed::default();
    for src in sources {
        for (i, line) in src.data.split(|&b| b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            let at = || format!("{} line {}", src.name, i + 1);
            let url = CredUrl::parse(line).map_err(|why| {
                Error::Failed(format!(
                    "import: {} is malformed ({why}); nothing was imported",
                    at()
                ))
            })?;
            let (Some(_), Some(password)) = (&url.username, &url.password) else {
                parsed.skipped.push(at());
                continue;
            };
            let key = url.key(None);
            if parsed.records.iter().any(|r| r.key == key) {
                continue;
            }
            parsed.records.push(Record {
                key,
                password: Some(Secret::from_slice(password)),
                oauth_refresh_token: None,
                authtype: None,
                credential: None,
                expires: None,
                ttl_expires: rules::ttl_deadline(ttl, now),
                stored: now,
                learned: Default::default(),
            });
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Stamp;

    fn source(name: &str, text: &str) -> Source {
        Source {
            name: name.into(),
            path: None,
            data: Zeroizing::new(text.as_bytes().to_vec()),
        }
    }

    const NOW: Stamp = Stamp {
        secs: 1_700_000_000,
        nanos: 0,
    };

    #[test]
    fn lines_become_records_and_the_first_of_a_key_wins() {
        let a = source(
            "a",
            "https://octo:tok1@GitHub.com/acme.git\r\n\nhttps://h.example\nhttps://u@h.example\n",
        );
        let b = source(
            "b",
            "https://octo:tok2@github.com/acme\nhttps://x:y@h.example:8443",
        );
        let parsed = parse(&[a, b], Some(60), NOW).unwrap();
        let keys: Vec<_> = parsed.records.iter().map(|r| r.key.display()).collect();
        assert_eq!(
            keys,
            ["https://octo@github.com/acme", "https://x@h.example:8443"]
        );
        let first = &parsed.records[0];
        assert_eq!(first.password.as_ref().unwrap().expose(), b"tok1");
        assert_eq!(
            (first.stored, first.ttl_expires),
            (NOW, Some(NOW.secs + 60))
        );
        assert_eq!(parsed.skipped, ["a line 3", "a line 4"]);
    }

    #[test]
    fn a_malformed_line_is_named_without_its_contents() {
        let src = source("creds", "https://u:ok@h\nnot-a-url-secret\n");
        let err = parse(&[src], None, NOW).err().unwrap().to_string();
        assert!(err.contains("creds line 2 is malformed"), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }
}
