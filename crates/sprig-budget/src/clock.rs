//! Clocks: the only source of "now" in the crate.
//!
//! Everything that depends on time takes a [`Clock`] rather than calling
//! [`Instant::now`] itself, so that tests (and simulations of slow machines)
//! can drive time by hand with a [`FakeClock`] and stay deterministic.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A monotonic source of time, measured from the clock's own origin.
///
/// The origin is the start of the run: the budget T is measured from it, so
/// `now()` is also "time elapsed so far".
pub trait Clock: Send + Sync {
    /// Time since the clock's origin.
    fn now(&self) -> Duration;
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Duration {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Duration {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for Box<C> {
    fn now(&self) -> Duration {
        (**self).now()
    }
}

/// Wall-clock time since an [`Instant`] origin (monotonic, unaffected by
/// system clock changes).
#[derive(Debug, Clone, Copy)]
pub struct RealClock {
    origin: Instant,
}

impl RealClock {
    /// A clock whose origin is now: create it when the run (and its budget)
    /// starts.
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }

    /// A clock whose origin is an earlier instant, for runs whose budget
    /// started before the clock was built (e.g. at process start).
    pub fn starting_at(origin: Instant) -> Self {
        Self { origin }
    }

    /// A clock that already reads `spent`: for a run resumed after `spent` of its
    /// budget, or one whose backend was chosen first. `None` when `spent` is longer
    /// than the machine's monotonic clock reaches back.
    pub fn already_spent(spent: Duration) -> Option<Self> {
        Instant::now().checked_sub(spent).map(Self::starting_at)
    }

    /// The instant the clock counts from.
    pub fn origin(&self) -> Instant {
        self.origin
    }
}

impl Default for RealClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for RealClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A hand-driven clock for tests and simulations.
///
/// Clones share the same time, so a test can hand one clone to a
/// [`Deadline`](crate::Deadline) and advance another as "work" happens.
/// It starts at zero and only moves when told to.
#[derive(Debug, Clone, Default)]
pub struct FakeClock {
    now: Arc<Mutex<Duration>>,
}

impl FakeClock {
    /// A fake clock at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// A fake clock at `start`.
    pub fn at(start: Duration) -> Self {
        let clock = Self::new();
        clock.set(start);
        clock
    }

    /// Moves time forward by `d` (saturating at [`Duration::MAX`]).
    pub fn advance(&self, d: Duration) {
        let mut now = self.lock();
        *now = now.saturating_add(d);
    }

    /// Sets the time to `t`. It may go backwards: tests of odd clocks are the
    /// caller's business.
    pub fn set(&self, t: Duration) {
        *self.lock() = t;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Duration> {
        // A Duration cannot be left half-written, so a poisoned lock is safe
        // to keep using.
        self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Duration {
        *self.lock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_clock_clones_share_time() {
        let a = FakeClock::new();
        let b = a.clone();
        a.advance(Duration::from_millis(5));
        assert_eq!(b.now(), Duration::from_millis(5));
        b.set(Duration::from_secs(2));
        assert_eq!(a.now(), Duration::from_secs(2));
        a.advance(Duration::MAX);
        assert_eq!(a.now(), Duration::MAX);
    }

    #[test]
    fn clock_through_references_and_boxes() {
        let c = FakeClock::at(Duration::from_secs(1));
        let dynamic: Box<dyn Clock> = Box::new(c.clone());
        assert_eq!(dynamic.now(), Duration::from_secs(1));
        assert_eq!(Clock::now(&&c), Duration::from_secs(1));
        assert_eq!(Arc::new(c).now(), Duration::from_secs(1));
    }

    #[test]
    fn real_clock_is_monotonic() {
        let c = RealClock::new();
        let a = c.now();
        let b = c.now();
        assert!(b >= a);
        assert!(RealClock::starting_at(c.origin()).now() >= a);
    }
}
