//! Integration tests that run the built helper binary, directly and through real git.

#[path = "../common/mod.rs"]
mod common;

/// Expiry: git's expiry, --ttl, eviction and warnings.
mod expiry;
/// The file backend: permissions, format, locking, concurrency.
mod file_backend;
/// Real `git credential fill|approve|reject` with the helper configured.
mod git;
/// Binary-level get/store/erase transcripts against the file backend.
mod protocol;
/// Input the helper must refuse, and secrets it must never show.
mod refusals;
