//! The local view of one lease, shared by a guard and the keeper that renews it.
//!
//! A lease is *valid* locally until `valid_until`: the instant the request that granted (or
//! last renewed) it was sent, plus 99% of the lease time, minus a small margin. The server's
//! expiry is never earlier than that (the server starts the lease when it runs the script, after
//! the request was sent), so a guard reports itself lost no later than Redis lets the lease go,
//! even if the keeper cannot reach Redis. A renewal that finds the holder gone marks it lost for
//! good.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// Safety margin subtracted from every local validity window.
const MARGIN: Duration = Duration::from_millis(5);

/// Shared lost-lease state of one holder.
pub(crate) struct LeaseState {
    lease: Duration,
    valid_until: Mutex<Instant>,
    lost: watch::Sender<bool>,
}

impl LeaseState {
    /// A lease granted by a script whose request was sent no earlier than `basis`.
    pub(crate) fn new(lease: Duration, basis: Instant) -> Self {
        LeaseState {
            lease,
            valid_until: Mutex::new(Self::until(lease, basis)),
            lost: watch::channel(false).0,
        }
    }

    fn until(lease: Duration, basis: Instant) -> Instant {
        (basis + lease.mul_f64(0.99))
            .checked_sub(MARGIN)
            .unwrap_or(basis)
    }

    fn valid_until(&self) -> Instant {
        *self.valid_until.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A renewal sent at `basis` succeeded.
    pub(crate) fn renewed(&self, basis: Instant) {
        if self.is_lost() {
            return;
        }
        let mut until = self.valid_until.lock().unwrap_or_else(|e| e.into_inner());
        *until = (*until).max(Self::until(self.lease, basis));
    }

    /// Redis no longer knows this holder, or it was released: lost for good.
    pub(crate) fn mark_lost(&self) {
        self.lost.send_replace(true);
    }

    /// Lost: marked so, or not renewed in time.
    pub(crate) fn is_lost(&self) -> bool {
        *self.lost.borrow() || Instant::now() >= self.valid_until()
    }

    /// Completes once the lease is lost.
    pub(crate) async fn lost(&self) {
        let mut rx = self.lost.subscribe();
        loop {
            if *rx.borrow_and_update() {
                return;
            }
            let until = self.valid_until();
            if Instant::now() >= until {
                return;
            }
            tokio::select! {
                _ = rx.changed() => {}
                _ = tokio::time::sleep_until(until) => {}
            }
        }
    }
}
