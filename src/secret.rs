//! Secret bytes: tokens, refresh tokens and pre-encoded credentials.
//!
//! A [`Secret`] is wiped when dropped, prints as `[redacted]` in `Debug`, has no `Display`,
//! and compares in constant time. The only way to the bytes is [`Secret::expose`], called
//! where they must leave the process: the `get` answer, the store's own encoding.

use secrecy::{ExposeSecret, SecretSlice};

/// Secret bytes, zeroized on drop.
#[derive(Clone)]
pub struct Secret(SecretSlice<u8>);

impl Secret {
    /// Copies `bytes` into a new secret allocation of exactly their length, so that no
    /// reallocation leaves an unwiped copy behind.
    pub fn from_slice(bytes: &[u8]) -> Secret {
        let mut v = Vec::with_capacity(bytes.len());
        v.extend_from_slice(bytes);
        Secret(SecretSlice::from(v))
    }

    /// The secret bytes. Callers must not copy them into memory that is not wiped.
    pub fn expose(&self) -> &[u8] {
        self.0.expose_secret()
    }

    /// Constant-time equality (length is not hidden).
    pub fn ct_eq(&self, other: &Secret) -> bool {
        ct_eq(self.expose(), other.expose())
    }
}

/// Compares two byte strings without an early exit on the first difference.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Compares two optional secrets: both absent, or both present and equal.
pub fn opt_eq(a: Option<&Secret>, b: Option<&Secret>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.ct_eq(b),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_bytes() {
        let s = Secret::from_slice(b"ghp_supersecret");
        let shown = format!("{s:?} {:?}", Some(s.clone()));
        assert!(!shown.contains("supersecret"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn equality_is_by_content() {
        let a = Secret::from_slice(b"tok");
        assert!(a.ct_eq(&Secret::from_slice(b"tok")));
        assert!(!a.ct_eq(&Secret::from_slice(b"tok2")));
        assert!(!a.ct_eq(&Secret::from_slice(b"toc")));
        assert!(opt_eq(None, None));
        assert!(!opt_eq(Some(&a), None));
    }
}
