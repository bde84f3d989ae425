//! git-credential-pat library (internal; no semver promise).
