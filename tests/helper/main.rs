//! Integration tests that run the built helper binary, directly and through real git.

// These tests drive Unix permissions, mounts and shells; the code they test compiles
// everywhere (cargo clippy --target ...), and runs on Unix.
#![cfg(unix)]

#[path = "../common/mod.rs"]
mod common;

/// Which requests reach which credentials through git: no copies, scoped erases, refresh
/// tokens, no-op writes, dot segments, TTL as policy.
mod credential_model;
/// Hostile hosts, usernames, paths and arguments: escaped once where shown, suggested
/// commands shell-quoted, a possible token never repeated.
mod display;
/// The man page and shell completions.
mod docs;
/// Expiry: git's expiry, --ttl, eviction and warnings.
mod expiry;
/// The file backend: permissions, format, locking, concurrency.
mod file_backend;
/// Real `git credential fill|approve|reject` with the helper configured.
mod git;
/// A hostile file system and process environment: FIFOs and symlinks at every path the helper
/// opens, umask 0277 as an unprivileged user, core dumps and /proc, a 200 MiB line under a
/// memory limit, files out of order or with CRLF endings.
mod hostile;
/// The people's commands: add, list, remove, prune, import, doctor.
mod people;
/// Binary-level get/store/erase transcripts against the file backend.
mod protocol;
/// Input the helper must refuse, and secrets it must never show.
mod refusals;
