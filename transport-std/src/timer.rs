//! The std [`Timer`]: `Instant` for the clock, `thread::sleep` for delays.

use intacct_core::client::Timer;
use intacct_core::session::Clock;
use std::time::{Duration, Instant};

/// A monotonic clock and delay based on [`Instant`] and
/// [`std::thread::sleep`].
#[derive(Debug, Clone, Copy)]
pub struct StdTimer {
    start: Instant,
}

impl StdTimer {
    /// Creates a timer whose clock reads 0 now.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
        }
    }
}

impl Default for StdTimer {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for StdTimer {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

impl Timer for StdTimer {
    fn delay_ms(&mut self, ms: u32) {
        std::thread::sleep(Duration::from_millis(u64::from(ms)));
    }
}
