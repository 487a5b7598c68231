//! The deadline monitor the training loop consults before every step.
//!
//! Plans are built from estimates; the deadline is what actually keeps the
//! run inside T when the estimates turn out wrong (a slower machine, a
//! longer-than-usual evaluation). The rule is simple: a step may start only
//! if it is expected to end by the cutoff T − reserve. A step that then runs
//! longer than expected can overshoot the cutoff by at most its own excess,
//! and the reserve is still there for the final evaluation and save, so a
//! run whose steps are iterations overshoots T by at most one iteration.

use std::time::Duration;

use crate::Clock;

/// Watches a clock against a budget T with a reserve kept for the final
/// evaluation and save.
#[derive(Debug, Clone)]
pub struct Deadline<C> {
    clock: C,
    budget: Duration,
    reserve: Duration,
}

impl<C: Clock> Deadline<C> {
    /// A deadline at `budget` after the clock's origin, of which `reserve`
    /// is kept for the end. A reserve larger than the budget leaves a cutoff
    /// of zero: nothing may start.
    pub fn new(clock: C, budget: Duration, reserve: Duration) -> Self {
        Self {
            clock,
            budget,
            reserve,
        }
    }

    /// The budget T.
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// The reserve kept for the final evaluation and save.
    pub fn reserve(&self) -> Duration {
        self.reserve
    }

    /// T − reserve: planned work must end by then.
    pub fn cutoff(&self) -> Duration {
        self.budget.saturating_sub(self.reserve)
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Time since the start of the run.
    pub fn elapsed(&self) -> Duration {
        self.clock.now()
    }

    /// Time left before the cutoff (0 once past it). This is the time the
    /// training may still use; the reserve comes on top.
    pub fn remaining(&self) -> Duration {
        self.cutoff().saturating_sub(self.clock.now())
    }

    /// Whether the cutoff has been reached: only the final evaluation and
    /// save should happen now.
    pub fn expired(&self) -> bool {
        self.clock.now() >= self.cutoff()
    }

    /// How far past the full budget T the run is (0 while within it).
    pub fn overrun(&self) -> Duration {
        self.clock.now().saturating_sub(self.budget)
    }

    /// Whether a step expected to take `expected` may start: true only if
    /// now + expected ≤ T − reserve.
    ///
    /// Use it before evaluations and prunes with their estimated costs.
    pub fn may_start(&self, expected: Duration) -> bool {
        self.clock
            .now()
            .checked_add(expected)
            .is_some_and(|end| end <= self.cutoff())
    }

    /// [`may_start`](Self::may_start) for one training iteration.
    ///
    /// Pass the current estimate of t_e (e.g.
    /// [`IterationProfiler::estimate`](crate::IterationProfiler::estimate),
    /// or the last iteration's duration before it has one). The iteration
    /// is allowed only if it is expected to end by the cutoff, so if it runs
    /// long, the run ends at most one (slow) iteration after the cutoff, and
    /// — the reserve covering the final evaluation and save — at most one
    /// iteration after T. With a zero estimate, iterations run until the
    /// cutoff is reached, with the same bound.
    pub fn may_start_iteration(&self, expected_iteration: Duration) -> bool {
        self.may_start(expected_iteration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FakeClock;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn gate_and_remaining() {
        let clock = FakeClock::new();
        let d = Deadline::new(clock.clone(), ms(1000), ms(100));
        assert_eq!(d.cutoff(), ms(900));
        assert_eq!(d.remaining(), ms(900));
        assert!(d.may_start_iteration(ms(900)));
        assert!(!d.may_start_iteration(ms(901)));
        clock.advance(ms(850));
        assert!(d.may_start(ms(50)));
        assert!(!d.may_start(ms(51)));
        assert!(!d.expired());
        clock.advance(ms(50));
        assert!(d.expired());
        assert!(d.may_start(Duration::ZERO));
        assert!(!d.may_start(Duration::from_nanos(1)));
        assert_eq!(d.remaining(), Duration::ZERO);
        assert_eq!(d.overrun(), Duration::ZERO);
        clock.advance(ms(200));
        assert_eq!(d.overrun(), ms(100));
        assert_eq!(d.elapsed(), ms(1100));
        assert!(!d.may_start(Duration::MAX));
    }

    #[test]
    fn reserve_larger_than_budget() {
        let d = Deadline::new(FakeClock::new(), ms(10), ms(20));
        assert_eq!(d.cutoff(), Duration::ZERO);
        assert!(d.expired());
        assert!(!d.may_start_iteration(ms(1)));
        assert_eq!((d.budget(), d.reserve()), (ms(10), ms(20)));
        assert_eq!(d.clock().now(), Duration::ZERO);
    }
}
