//! Keychain calls on a worker thread, waited for at most a time limit: zbus has no timeouts,
//! and a hung bus or a stopped daemon must not hang git. After one timeout every later call
//! of the store fails at once.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use super::{CALL_TIMEOUT, CONNECT_TIMEOUT, KeychainStore, platform};
use crate::store::Error;

/// What the worker of [`KeychainStore::bounded_connect`] reports.
enum Step<T> {
    Connected,
    Done(T),
}

impl KeychainStore {
    /// Runs `job` on a worker thread and waits for it at most `limit`.
    pub(super) fn bounded<T: Send + 'static>(
        &self,
        op: &'static str,
        limit: Duration,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        self.check_not_hung(op)?;
        let (tx, rx) = mpsc::sync_channel(1);
        self.spawn(move || {
            // After a timeout nobody listens: the result (secrets included) is dropped,
            // and wiped, here.
            let _ = tx.send(job());
        })?;
        match rx.recv_timeout(limit) {
            Ok(value) => Ok(value),
            Err(e) => Err(self.timed_out(op, limit, e)),
        }
    }

    /// Runs `job`, which connects, calls the function it is given once connected, then
    /// makes its first call, on one worker thread: connecting waits at most
    /// [`CONNECT_TIMEOUT`], the call after it at most [`CALL_TIMEOUT`]. One thread and one
    /// hand-back instead of two, which on a busy machine is most of a short request's cost.
    pub(super) fn bounded_connect<T: Send + 'static>(
        &self,
        op: &'static str,
        job: impl FnOnce(&dyn Fn()) -> T + Send + 'static,
    ) -> Result<T, Error> {
        self.check_not_hung("connecting")?;
        let (tx, rx) = mpsc::sync_channel(2);
        self.spawn(move || {
            let step = tx.clone();
            let done = job(&move || {
                let _ = step.send(Step::Connected);
            });
            let _ = tx.send(Step::Done(done));
        })?;
        match rx.recv_timeout(CONNECT_TIMEOUT) {
            Ok(Step::Done(value)) => Ok(value),
            Ok(Step::Connected) => match rx.recv_timeout(CALL_TIMEOUT) {
                Ok(Step::Done(value)) => Ok(value),
                Ok(Step::Connected) => {
                    Err(self.timed_out(op, CALL_TIMEOUT, RecvTimeoutError::Disconnected))
                }
                Err(e) => Err(self.timed_out(op, CALL_TIMEOUT, e)),
            },
            Err(e) => Err(self.timed_out("connecting", CONNECT_TIMEOUT, e)),
        }
    }

    fn check_not_hung(&self, op: &'static str) -> Result<(), Error> {
        if self.hung.load(Ordering::SeqCst) {
            return Err(Error::KeychainUnavailable(format!(
                "{} stopped answering earlier in this run ({op}): {}, or use --backend=file",
                platform::NAME,
                platform::RESTART
            )));
        }
        Ok(())
    }

    fn spawn(&self, work: impl FnOnce() + Send + 'static) -> Result<(), Error> {
        std::thread::Builder::new()
            .name("keychain".into())
            .spawn(work)
            .map(drop)
            .map_err(|e| {
                Error::KeychainFailed(format!("cannot start a thread for the keychain: {e}"))
            })
    }

    fn timed_out(&self, op: &'static str, limit: Duration, e: RecvTimeoutError) -> Error {
        match e {
            RecvTimeoutError::Timeout => {
                self.hung.store(true, Ordering::SeqCst);
                Error::KeychainUnavailable(format!(
                    "{} did not answer within {} s ({op}): it may be hung or waiting for an unlock prompt; {} or {}, or use --backend=file",
                    platform::NAME,
                    limit.as_secs(),
                    platform::UNLOCK,
                    platform::RESTART
                ))
            }
            RecvTimeoutError::Disconnected => Error::KeychainFailed(format!(
                "{} failed unexpectedly ({op}): try again, or use --backend=file",
                platform::NAME
            )),
        }
    }
}
