//! The kernel key retention service's system calls, `add_key(2)` and `keyctl(2)`, as small
//! safe functions: every pointer the kernel gets comes from a slice or C string borrowed for
//! the call, with its true length.
//!
//! Errors are the raw `io::Error` of errno; `keys` turns them into messages.

use std::ffi::CStr;
use std::io;

use libc::{c_long, c_ulong};

/// A key's serial number (`key_serial_t`), or a special keyring ID (`KEY_SPEC_*`).
pub type KeyId = i32;

/// The calling uid's user keyring, `@u`: one per uid, shared by all its processes.
pub const USER_KEYRING: KeyId = libc::KEY_SPEC_USER_KEYRING;
/// The calling thread's keyring, `@t`: private to the thread, gone when it exits.
pub const THREAD_KEYRING: KeyId = libc::KEY_SPEC_THREAD_KEYRING;

/// The kernel's limit on a `user` key's payload (`user_preparse`).
pub const MAX_PAYLOAD: usize = 32_767;
/// The kernel's limit on a key's description, terminating NUL excluded (`KEY_MAX_DESC_SIZE`).
pub const MAX_DESCRIPTION: usize = 4_095;

fn result(ret: c_long) -> io::Result<c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// A key ID as the kernel reads it: a signed 32-bit value passed in a register.
fn arg(id: KeyId) -> c_ulong {
    id as c_ulong
}

/// `keyctl` operations that take key IDs and integers only.
fn keyctl_ints(op: u32, a: c_ulong, b: c_ulong) -> io::Result<c_long> {
    // SAFETY: the callers pass only integers (key IDs, permission masks, seconds); the
    // kernel dereferences no pointer for these operations, and unused arguments are zero.
    #[expect(unsafe_code)]
    let ret = unsafe { libc::syscall(libc::SYS_keyctl, c_ulong::from(op), a, b, 0 as c_ulong) };
    result(ret)
}

/// Creates a `user` key in `keyring` holding `payload`, or updates the one already there
/// with that description in place (same ID and permissions; the kernel clears its timeout),
/// and returns its ID.
pub fn add_key(description: &CStr, payload: &[u8], keyring: KeyId) -> io::Result<KeyId> {
    // SAFETY: "user" and `description` are NUL-terminated C strings and `payload` is a live
    // slice of `payload.len()` bytes, all borrowed for the duration of the call; the kernel
    // only reads them.
    #[expect(unsafe_code)]
    let ret = unsafe {
        libc::syscall(
            libc::SYS_add_key,
            c"user".as_ptr(),
            description.as_ptr(),
            payload.as_ptr(),
            payload.len(),
            arg(keyring),
        )
    };
    result(ret).map(|id| id as KeyId)
}

/// Reads key `id`'s payload (a keyring's: its key IDs) into `buf` (`KEYCTL_READ`). Returns
/// the payload's full length: when that exceeds `buf.len()`, `buf` holds nothing useful and
/// the caller retries with a larger buffer.
pub fn read(id: KeyId, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is a live, exclusively borrowed slice of `buf.len()` bytes; the kernel
    // writes at most that many bytes into it.
    #[expect(unsafe_code)]
    let ret = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            c_ulong::from(libc::KEYCTL_READ),
            arg(id),
            buf.as_mut_ptr(),
            buf.len(),
        )
    };
    result(ret).map(|n| n as usize)
}

/// Describes key `id` into `buf` (`KEYCTL_DESCRIBE`): `type;uid;gid;perm;description` and a
/// NUL. Returns the full length, NUL included; more than `buf.len()` means "retry larger".
pub fn describe(id: KeyId, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is a live, exclusively borrowed slice of `buf.len()` bytes; the kernel
    // writes at most that many bytes into it.
    #[expect(unsafe_code)]
    let ret = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            c_ulong::from(libc::KEYCTL_DESCRIBE),
            arg(id),
            buf.as_mut_ptr(),
            buf.len(),
        )
    };
    result(ret).map(|n| n as usize)
}

/// Sets key `id`'s permission mask (`KEYCTL_SETPERM`); its owner may always do so.
pub fn set_perm(id: KeyId, perm: u32) -> io::Result<()> {
    keyctl_ints(libc::KEYCTL_SETPERM, arg(id), c_ulong::from(perm)).map(drop)
}

/// Makes key `id` expire `secs` seconds from now (`KEYCTL_SET_TIMEOUT`); 0 = never.
pub fn set_timeout(id: KeyId, secs: u32) -> io::Result<()> {
    keyctl_ints(libc::KEYCTL_SET_TIMEOUT, arg(id), c_ulong::from(secs)).map(drop)
}

/// Links key `id` into `keyring` (`KEYCTL_LINK`), displacing a key of the same type and
/// description that the keyring holds.
pub fn link(id: KeyId, keyring: KeyId) -> io::Result<()> {
    keyctl_ints(libc::KEYCTL_LINK, arg(id), arg(keyring)).map(drop)
}

/// Unlinks key `id` from `keyring` (`KEYCTL_UNLINK`); a key linked nowhere is destroyed and
/// its quota given back.
pub fn unlink(id: KeyId, keyring: KeyId) -> io::Result<()> {
    keyctl_ints(libc::KEYCTL_UNLINK, arg(id), arg(keyring)).map(drop)
}

/// Invalidates key `id` (`KEYCTL_INVALIDATE`): gone at once from every keyring.
pub fn invalidate(id: KeyId) -> io::Result<()> {
    keyctl_ints(libc::KEYCTL_INVALIDATE, arg(id), 0).map(drop)
}

/// The effective uid, which owns the keys this process creates.
pub fn euid() -> u32 {
    crate::fsperm::euid()
}
