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
    /// The file's permission bits when group or others could read it (its tokens are
    /// exposed).
    pub(super) exposed_mode: Option<u32>,
}

impl Source {
    /// The file at `path`, read as `data`, with its permission bits `mode` when known.
    pub(super) fn file(path: PathBuf, data: Vec<u8>, mode: Option<u32>) -> Source {
        Source {
            name: crate::display::escape_path(&path),
            path: Some(path),
            data: Zeroizing::new(data),
            exposed_mode: mode.filter(|m| m & 0o044 != 0),
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
    /// How many per-repository lines only repeated a host-wide line's user and token (what
    /// git-credential-store writes under `useHttpPath`): dropped, the host-wide one serves.
    pub(super) copies: usize,
    /// `NAME line N` of each line whose key an earlier line already gave with another
    /// token: git-credential-store answers with the first, so the first is imported.
    pub(super) shadowed: Vec<String>,
    /// How many lines held a token that was not imported (shadowed, without a user, or
    /// under a path above the root): `--remove-source` then keeps the sources.
    pub(super) tokens_left: usize,
}

/// Parses every line of `sources` into a record stored at `now` under the TTL `ttl`. Blank
/// lines are passed over; a malformed one is an error that names it (never its contents).
pub(super) fn parse(sources: &[Source], ttl: Option<u64>, now: Stamp) -> Result<Parsed> {
    let mut parsed = Parsed::default();
    let mut seen: std::collections::HashMap<crate::key::Key, usize> =
        std::collections::HashMap::new();
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
                parsed.tokens_left += usize::from(url.password.is_some());
                parsed.skipped.push(at());
                continue;
            };
            // Paths are resolved as git's requests are (dot segments); one that climbs
            // above the root can never be served, so it is not imported.
            let path = match crate::key::ReqPath::of(url.path.as_deref()) {
                crate::key::ReqPath::Climbs => {
                    parsed
                        .skipped
                        .push(format!("{} (its path climbs above the root)", at()));
                    parsed.tokens_left += 1;
                    continue;
                }
                crate::key::ReqPath::At(p) => Some(p),
                _ => None,
            };
            let key = crate::key::Key {
                path,
                ..url.key(None)
            };
            if let Some(&first) = seen.get(&key) {
                let same = parsed.records[first]
                    .password
                    .as_ref()
                    .is_some_and(|p| p.expose() == &password[..]);
                if !same {
                    parsed.shadowed.push(at());
                    parsed.tokens_left += 1;
                }
                continue;
            }
            seen.insert(key.clone(), parsed.records.len());
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
    drop_copies(&mut parsed);
    Ok(parsed)
}

/// Drops the per-repository lines that repeat a host-wide line's user and token: a line is a
/// copy when a host-wide line of the same protocol, host and user has the same secret.
fn drop_copies(parsed: &mut Parsed) {
    use std::collections::HashMap;
    let wide: HashMap<(&crate::key::HostKey, Option<&[u8]>), &Record> = parsed
        .records
        .iter()
        .filter(|r| r.key.path.is_none())
        .map(|r| ((&r.key.host, r.key.username.as_deref()), r))
        .collect();
    let copy: Vec<bool> = parsed
        .records
        .iter()
        .map(|r| {
            r.key.path.is_some()
                && wide
                    .get(&(&r.key.host, r.key.username.as_deref()))
                    .is_some_and(|w| w.same_token(r))
        })
        .collect();
    let mut i = 0;
    parsed.records.retain(|_| {
        i += 1;
        !copy[i - 1]
    });
    parsed.copies = copy.iter().filter(|&&c| c).count();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Stamp;

    fn source(name: &str, text: &str) -> Source {
        Source {
            name: name.into(),
            path: None,
            exposed_mode: None,
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
    fn per_repository_copies_of_a_host_wide_token_are_dropped() {
        let src = source(
            "f",
            "https://u:wide@h/acme/tool\nhttps://u:wide@h\nhttps://u:other@h/acme/lib\nhttps://v:wide@h/x\n",
        );
        let parsed = parse(&[src], None, Stamp::default()).unwrap();
        assert_eq!(parsed.copies, 1);
        let keys: Vec<String> = parsed.records.iter().map(|r| r.key.display()).collect();
        assert_eq!(
            keys,
            ["https://u@h", "https://u@h/acme/lib", "https://v@h/x"]
        );
    }

    #[test]
    fn a_malformed_line_is_named_without_its_contents() {
        let src = source("creds", "https://u:ok@h\nnot-a-url-secret\n");
        let err = parse(&[src], None, NOW).err().unwrap().to_string();
        assert!(err.contains("creds line 2 is malformed"), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }
}
