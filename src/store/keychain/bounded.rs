//! Keychain calls on a worker thread, waited for at most a time limit: zbus has no timeouts,
//! and a hung bus or a stopped daemon must not hang git. After one timeout every later call
//! of the store fails at once.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use super::{KeychainStore, platform};
use crate::store::Error;

impl KeychainStore {
    /// Runs `job` on a worker thread and waits for it at most `limit`.
    pub(super) fn bounded<T: Send + 'static>(
        &self,
        op: &'static str,
        limit: Duration,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        if self.hung.load(Ordering::SeqCst) {
            return Err(Error::KeychainUnavailable(format!(
                "{} stopped answering earlier in this run ({op}): {}, or use --backend=file",
                platform::NAME,
                platform::RESTART
            )));
        }
        let (tx, rx) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("keychain".into())
            .spawn(move || {
                // After a timeout nobody listens: the result (secrets included) is dropped,
                // and wiped, here.
                let _ = tx.send(job());
            })
            .map_err(|e| {
                Error::KeychainFailed(format!("cannot start a thread for the keychain: {e}"))
            })?;
        match rx.recv_timeout(limit) {
            Ok(value) => Ok(value),
            Err(RecvTimeoutError::Timeout) => {
                self.hung.store(true, Ordering::SeqCst);
                Err(Error::KeychainUnavailable(format!(
                    "{} did not answer within {} s ({op}): it may be hung or waiting for an unlock prompt; {} or {}, or use --backend=file",
                    platform::NAME,
                    limit.as_secs(),
                    platform::UNLOCK,
                    platform::RESTART
                )))
            }
            Err(RecvTimeoutError::Disconnected) => Err(Error::KeychainFailed(format!(
                "{} failed unexpectedly ({op}): try again, or use --backend=file",
                platform::NAME
            ))),
        }
    }
}
