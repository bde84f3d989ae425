//! An exclusive file lock with a bounded wait: writers never hang git.

use std::fs::File;
use std::io;
use std::time::Duration;

/// Takes an exclusive lock on `f`, waiting at most `wait`. `Ok(false)`: still held by someone
/// else after `wait`.
///
/// Uncontended, this is one non-blocking `flock`. Contended, a helper thread blocks in the
/// kernel on a duplicate of the descriptor (the lock belongs to the open file description the
/// two share), so the next writer starts the moment the lock is released instead of on a
/// polling tick; the caller gives up on that thread after `wait`. A waiter that wins after
/// the caller gave up holds the lock only until the process exits, which follows at once: the
/// caller fails the command.
pub fn lock_bounded(f: &File, wait: Duration) -> io::Result<bool> {
    match f.try_lock() {
        Ok(()) => return Ok(true),
        Err(std::fs::TryLockError::Error(e)) => return Err(e),
        Err(std::fs::TryLockError::WouldBlock) => {}
    }
    wait_for(f, wait)
}

#[cfg(unix)]
fn wait_for(f: &File, wait: Duration) -> io::Result<bool> {
    let dup = f.try_clone()?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let result = dup.lock();
        let _ = tx.send(result);
        // Keep the duplicate open until the process ends: closing it never releases the
        // lock while `f` is open, and keeping it makes that independent of `f`'s drop order.
        std::mem::forget(dup);
    });
    match rx.recv_timeout(wait) {
        Ok(result) => result.map(|()| true),
        Err(_) => Ok(false),
    }
}

/// Elsewhere lock ownership is per handle, so poll with short pauses.
#[cfg(not(unix))]
fn wait_for(f: &File, wait: Duration) -> io::Result<bool> {
    let deadline = std::time::Instant::now() + wait;
    loop {
        match f.try_lock() {
            Ok(()) => return Ok(true),
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
            Err(std::fs::TryLockError::WouldBlock) => {}
        }
        let now = std::time::Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(2).min(deadline - now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_release_and_gives_up_after_the_bound() {
        let path = std::env::temp_dir().join(format!("gcp-lock-{}", std::process::id()));
        let open = || {
            File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .unwrap()
        };
        let (a, b, c) = (open(), open(), open());
        assert!(lock_bounded(&a, Duration::from_secs(1)).unwrap());
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(a);
        });
        let start = std::time::Instant::now();
        assert!(
            lock_bounded(&b, Duration::from_secs(5)).unwrap(),
            "taken once released"
        );
        assert!(start.elapsed() >= Duration::from_millis(100));
        releaser.join().unwrap();
        // b holds it now: c gives up after its bound.
        let start = std::time::Instant::now();
        assert!(!lock_bounded(&c, Duration::from_millis(200)).unwrap());
        assert!(start.elapsed() >= Duration::from_millis(200));
        std::fs::remove_file(&path).unwrap();
    }
}
