//! The tables' timer: several pieces of work timed in alternation, so a slow spell of the
//! machine hits them all alike, each figure the median time per call.
//!
//! Why not criterion: its figures are read back from files whose layout is its own
//! business, and it times one function to the end before the next, so two variants
//! compared across a minute see different machines. Criterion stays for `cargo bench`.

use std::time::{Duration, Instant};

use anyhow::Result;
use sprig_report::median;

/// How long to warm up, how long to time in all, and how long each turn of one piece of
/// work lasts.
#[derive(Debug, Clone, Copy)]
pub struct Interleaved {
    warm_up: Duration,
    total: Duration,
    turn: Duration,
}

/// One piece of work to time: a call that may fail.
pub type Work<'a> = &'a mut dyn FnMut() -> Result<()>;

impl Interleaved {
    /// `total` of timing after `warm_up` per piece, in turns of about `turn` each.
    pub fn new(warm_up: Duration, total: Duration, turn: Duration) -> Self {
        Self {
            warm_up,
            total,
            turn,
        }
    }

    /// The median time per call of each of `work`, in nanoseconds, in the order given.
    /// Each piece is warmed up, then they take turns of about `turn` (at least one call
    /// each) until `total` has passed and every piece has at least three calls.
    ///
    /// # Errors
    /// The first error of a call.
    pub fn medians_ns(&self, work: &mut [Work<'_>]) -> Result<Vec<f64>> {
        let mut per_call = Vec::with_capacity(work.len());
        for w in work.iter_mut() {
            per_call.push(self.warm(w)?);
        }
        let slowest = per_call.iter().max().copied().unwrap_or(Duration::ZERO);
        let calls_per_turn = if slowest.is_zero() {
            1
        } else {
            (self.turn.as_secs_f64() / slowest.as_secs_f64()).max(1.0) as usize
        };
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); work.len()];
        let started = Instant::now();
        while started.elapsed() < self.total || times.iter().any(|t| t.len() < 3) {
            for (w, out) in work.iter_mut().zip(times.iter_mut()) {
                for _ in 0..calls_per_turn {
                    let call = Instant::now();
                    w()?;
                    out.push(call.elapsed().as_secs_f64() * 1e9);
                }
            }
        }
        Ok(times.iter().map(|t| median(t)).collect())
    }

    /// Runs `w` for the warm-up (at least three calls) and returns its time per call.
    fn warm(&self, w: &mut Work<'_>) -> Result<Duration> {
        let started = Instant::now();
        let mut calls = 0u32;
        while calls < 3 || started.elapsed() < self.warm_up {
            w()?;
            calls += 1;
        }
        Ok(started.elapsed() / calls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_piece_gets_its_own_median_in_order_and_errors_stop_the_timing() {
        let timer = Interleaved::new(
            Duration::from_millis(1),
            Duration::from_millis(20),
            Duration::from_millis(2),
        );
        let (mut short, mut long) = (0u32, 0u32);
        let medians = timer
            .medians_ns(&mut [
                &mut || {
                    short += 1;
                    Ok(())
                },
                &mut || {
                    long += 1;
                    std::thread::sleep(Duration::from_micros(500));
                    Ok(())
                },
            ])
            .unwrap();
        assert_eq!(medians.len(), 2);
        // Sleeping half a millisecond takes at least that; doing nothing takes less.
        assert!(medians[1] >= 500_000.0, "{medians:?}");
        assert!(medians[0] < medians[1], "{medians:?}");
        assert!(short >= 3 && long >= 3, "{short} {long}");
        let failed = timer.medians_ns(&mut [&mut || anyhow::bail!("broken")]);
        assert_eq!(failed.unwrap_err().to_string(), "broken");
    }
}
