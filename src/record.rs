//! What a backend stores for one key: the secrets, the expiry and when the token was stored.

use crate::key::Key;
use crate::secret::{self, Secret};

/// A point in time with nanoseconds, so that two tokens stored in the same second still
/// have an order ("the most recently stored wins").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Stamp {
    /// Unix seconds.
    pub secs: u64,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

impl Stamp {
    /// The current time.
    pub fn now() -> Stamp {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Stamp {
            secs: d.as_secs(),
            nanos: d.subsec_nanos(),
        }
    }
}

/// One stored credential.
#[derive(Clone, Debug)]
pub struct Record {
    /// Where it is stored.
    pub key: Key,
    /// The token handed to git as `password`.
    pub password: Option<Secret>,
    /// The OAuth refresh token that came with it, if any.
    pub oauth_refresh_token: Option<Secret>,
    /// The authentication scheme of a pre-encoded `credential` (`Bearer`, ...).
    pub authtype: Option<Vec<u8>>,
    /// A pre-encoded credential for `authtype`.
    pub credential: Option<Secret>,
    /// The token's own expiry, Unix seconds (UTC): git's `password_expiry_utc`, the one given
    /// to `add`, or the forge's. `None` for unknown or never. Handed to git.
    pub expires: Option<u64>,
    /// When the `--ttl` policy forgets it, Unix seconds (UTC): the helper's own deadline,
    /// never handed to git (DESIGN §4). `None` without a TTL.
    pub ttl_expires: Option<u64>,
    /// When this token was stored (an identical re-store or an expiry update keeps it).
    pub stored: Stamp,
    /// What the forge that issued the token said about it (DESIGN §8).
    pub learned: Learned,
}

/// What the forge that issued a token says about it (DESIGN §8). Nothing here is secret:
/// `list` and `verify` show it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Learned {
    /// The forge's account name for the token (GitHub's and Gitea's `login`, GitLab's
    /// `username`).
    pub login: Option<Vec<u8>>,
    /// The token's scopes; `None` when the forge does not say (a fine-grained GitHub token,
    /// Gitea), empty when it says there are none.
    pub scopes: Option<Vec<Vec<u8>>>,
    /// When the forge last confirmed the token, Unix seconds (UTC).
    pub verified: Option<u64>,
}

impl Learned {
    /// Whether the forge has said anything at all.
    pub fn is_empty(&self) -> bool {
        *self == Learned::default()
    }
}

impl Record {
    /// Whether both records hold the same token (password, authtype and credential).
    pub fn same_token(&self, other: &Record) -> bool {
        secret::opt_eq(self.password.as_ref(), other.password.as_ref())
            && secret::opt_eq(self.credential.as_ref(), other.credential.as_ref())
            && self.authtype == other.authtype
    }

    /// Whether everything but the key is the same: re-storing it would change nothing.
    pub fn same_content(&self, other: &Record) -> bool {
        self.same_token(other)
            && secret::opt_eq(
                self.oauth_refresh_token.as_ref(),
                other.oauth_refresh_token.as_ref(),
            )
            && self.expires == other.expires
            && self.ttl_expires == other.ttl_expires
            && self.stored == other.stored
            && self.learned == other.learned
    }

    /// The credential's expiry (Unix seconds): the earliest of the token's own expiry and
    /// the TTL deadline. What `list` shows.
    pub fn expiry(&self) -> Option<u64> {
        match (self.expires, self.ttl_expires) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the credential is expired at `now` (Unix seconds): expired when now ≥ expiry.
    pub fn is_expired(&self, now: u64) -> bool {
        self.expiry().is_some_and(|e| now >= e)
    }

    /// Whether the token's own expiry has passed at `now` (not the TTL's).
    pub fn token_expired(&self, now: u64) -> bool {
        self.expires.is_some_and(|e| now >= e)
    }

    /// Whether the `--ttl` policy has forgotten it at `now`.
    pub fn ttl_lapsed(&self, now: u64) -> bool {
        self.ttl_expires.is_some_and(|e| now >= e)
    }

    /// Whether another helper can renew it without a person: it carries an
    /// `oauth_refresh_token` (git-credential-oauth and similar generators).
    pub fn refreshable(&self) -> bool {
        self.oauth_refresh_token.is_some()
    }
}
