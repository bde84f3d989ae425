//! What our keychain entries are called and how they are found on each OS: the service and
//! account every entry has, then the platform's own part. On the Secret Service (Linux and
//! the BSDs) an entry also gets attributes and a label, searches go by attribute, and a
//! missing session bus is noticed without connecting; elsewhere entries are found by service
//! and filtered by account.

use crate::key::Key;
use crate::store::format;

/// The service name of every entry we create.
pub const SERVICE: &str = "git-credential-pat";

/// The account of `key`'s entry: the key fields of its v1 line (ASCII, no secret).
pub(super) fn account(key: &Key) -> String {
    String::from_utf8_lossy(&format::encode_key(key)).into_owned()
}

// The rest is this platform's: `NAME` and the hints of the messages, `session_bus_problem`,
// `search_spec` and `remove_hint`; on the Secret Service also `item_attributes` and `label`,
// elsewhere `specifiers`, `new_entry` and `after_write` for the keyring crates.
#[cfg(not(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
)))]
pub use other::*;
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
pub use secret_service::*;

/// The Secret Service (Linux and the BSDs).
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
mod secret_service {
    use std::ffi::OsString;
    use std::path::PathBuf;

    use super::{SERVICE, account};
    use crate::display::escape;
    use crate::key::{HostKey, Key};

    pub const NAME: &str = "the Secret Service keyring";
    pub const UNLOCK: &str = "unlock it (log in to your desktop session, or pipe its password to 'gnome-keyring-daemon --unlock', which reads it from stdin without a prompt)";
    pub const START: &str = "start a Secret Service such as gnome-keyring or KeePassXC";
    pub const RESTART: &str = "restart it ('gnome-keyring-daemon --replace')";
    pub const CHECK: &str =
        "check its entries with seahorse or 'secret-tool search --all service git-credential-pat'";

    /// Why zbus cannot even try to connect, mirroring its choice of address: the
    /// `DBUS_SESSION_BUS_ADDRESS`, else `$XDG_RUNTIME_DIR/bus`, else `/run/user/UID/bus`.
    pub fn session_bus_problem(env: &dyn Fn(&str) -> Option<OsString>) -> Option<String> {
        if env("DBUS_SESSION_BUS_ADDRESS").is_some_and(|a| !a.is_empty()) {
            return None;
        }
        let runtime = env("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(format!("/run/user/{}", crate::fsperm::euid())));
        let bus = runtime.join("bus");
        if bus.exists() {
            return None;
        }
        Some(format!(
            "no D-Bus session bus, so {NAME} is out of reach (DBUS_SESSION_BUS_ADDRESS is not set and {} does not exist): run in a desktop session, or start one with dbus-run-session and gnome-keyring-daemon, or use --backend=file",
            crate::display::escape_path(&bus)
        ))
    }

    /// Our attributes, never an empty map (which would match everyone's items).
    pub fn search_spec(host: Option<&HostKey>) -> Vec<(&'static str, String)> {
        let mut spec = vec![("service", SERVICE.to_owned())];
        if let Some(h) = host {
            spec.extend(attributes(h));
        }
        spec
    }

    /// What an entry shows besides `service` and `username`: who made it, and for which
    /// protocol and (lowercased) host, escaped as they are for display.
    fn attributes(host: &HostKey) -> [(&'static str, String); 3] {
        [
            ("application", SERVICE.to_owned()),
            ("protocol", escape(&host.protocol)),
            ("host", escape(&host.host)),
        ]
    }

    /// Every attribute of `key`'s item: `service` and `username` (the account), as the
    /// keyring crates name them, then [`attributes`].
    pub fn item_attributes(key: &Key) -> Vec<(&'static str, String)> {
        let mut attrs = vec![("service", SERVICE.to_owned()), ("username", account(key))];
        attrs.extend(attributes(&key.host));
        attrs
    }

    /// The label seahorse shows.
    pub fn label(key: &Key) -> String {
        format!("{SERVICE}: {}", key.display())
    }

    pub fn remove_hint(entry: &str) -> String {
        format!(
            "remove it with seahorse, or with secret-tool clear service {SERVICE} username '{entry}'"
        )
    }
}

/// macOS Keychain, Windows Credential Manager (and whatever else `keyring` supports): no
/// attributes, so entries are found by service and filtered by account.
#[cfg(not(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
)))]
mod other {
    #[cfg(windows)]
    use std::collections::HashMap;
    use std::ffi::OsString;

    use keyring_core::{Entry, Error as KeyringError};

    use super::{SERVICE, account};
    use crate::key::{HostKey, Key};

    #[cfg(target_os = "macos")]
    pub const NAME: &str = "the macOS Keychain";
    #[cfg(windows)]
    pub const NAME: &str = "the Windows Credential Manager";
    #[cfg(not(any(target_os = "macos", windows)))]
    pub const NAME: &str = "the OS keychain";

    #[cfg(target_os = "macos")]
    pub const UNLOCK: &str = "unlock it ('security unlock-keychain')";
    #[cfg(not(target_os = "macos"))]
    pub const UNLOCK: &str = "unlock it (log in again)";
    pub const START: &str = "check that it is available to this session";
    pub const RESTART: &str = "log in again";
    #[cfg(target_os = "macos")]
    pub const CHECK: &str = "check its entries for git-credential-pat in Keychain Access";
    #[cfg(not(target_os = "macos"))]
    pub const CHECK: &str = "check its entries for git-credential-pat in Credential Manager";

    /// Always reachable as far as a quick check can tell.
    pub fn session_bus_problem(_env: &dyn Fn(&str) -> Option<OsString>) -> Option<String> {
        None
    }

    /// Every entry of our service: the account prefix narrows it down afterwards.
    pub fn search_spec(_host: Option<&HostKey>) -> Vec<(&'static str, String)> {
        // Credential Manager's target names are `{account}.{service}`, searched by regex.
        #[cfg(windows)]
        return vec![("pattern", format!(r"\.{SERVICE}$"))];
        #[cfg(not(windows))]
        return vec![("service", SERVICE.to_owned())];
    }

    pub fn specifiers(entry: &Entry) -> Result<Option<(String, String)>, KeyringError> {
        Ok(entry.get_specifiers())
    }

    pub fn new_entry(key: &Key) -> Result<Entry, KeyringError> {
        // Kept on this machine, as git-credential-wincred does, not roamed with the profile.
        #[cfg(windows)]
        return Entry::new_with_modifiers(
            SERVICE,
            &account(key),
            &HashMap::from([("persistence", "Local")]),
        );
        #[cfg(not(windows))]
        return Entry::new(SERVICE, &account(key));
    }

    pub fn after_write(_entry: &Entry, _key: &Key) -> Result<(), KeyringError> {
        Ok(())
    }

    pub fn remove_hint(_entry: &str) -> String {
        CHECK.replacen("check", "remove it from", 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::HostKey;

    #[test]
    #[cfg(all(
        unix,
        not(any(target_os = "macos", target_os = "ios", target_os = "android"))
    ))]
    fn a_missing_session_bus_is_known_without_connecting() {
        use std::ffi::OsString;

        let dir = std::env::temp_dir().join(format!("pat-kc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let runtime = OsString::from(&dir);
        let env = |k: &str| (k == "XDG_RUNTIME_DIR").then(|| runtime.clone());
        let problem = session_bus_problem(&env).expect("no bus socket");
        assert!(
            problem.contains("DBUS_SESSION_BUS_ADDRESS is not set"),
            "{problem}"
        );
        assert!(
            problem.contains(&format!("{}/bus does not exist", dir.display())),
            "{problem}"
        );
        assert!(problem.ends_with("or use --backend=file"), "{problem}");
        std::fs::write(dir.join("bus"), "").unwrap();
        assert_eq!(session_bus_problem(&env), None);
        std::fs::remove_dir_all(&dir).unwrap();
        let set = |k: &str| (k == "DBUS_SESSION_BUS_ADDRESS").then(|| "unix:path=/x".into());
        assert_eq!(session_bus_problem(&set), None, "zbus will try it");
        let empty = |k: &str| match k {
            "DBUS_SESSION_BUS_ADDRESS" => Some(OsString::new()),
            "XDG_RUNTIME_DIR" => Some(runtime.clone()),
            _ => None,
        };
        assert!(session_bus_problem(&empty).is_some(), "empty is unset");
    }

    #[test]
    fn searches_are_never_empty() {
        for host in [None, Some(&HostKey::new(b"https", b"github.com"))] {
            let spec = search_spec(host);
            assert!(!spec.is_empty());
        }
    }

    #[test]
    #[cfg(all(
        unix,
        not(any(target_os = "macos", target_os = "ios", target_os = "android"))
    ))]
    fn secret_service_entries_are_recognisable() {
        let key = Key::new(b"https", b"GitHub.com", Some(b"acme"), Some(b"octocat"));
        assert_eq!(account(&key), "https://github.com /acme @octocat");
        assert_eq!(
            label(&key),
            "git-credential-pat: https://octocat@github.com/acme"
        );
        let spec = search_spec(Some(&key.host));
        for pair in [
            ("service", "git-credential-pat"),
            ("application", "git-credential-pat"),
            ("protocol", "https"),
            ("host", "github.com"),
        ] {
            assert!(spec.contains(&(pair.0, pair.1.to_owned())), "{spec:?}");
        }
    }
}
