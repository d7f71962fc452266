//! A millisecond clock from SysTick, for timeouts and session lifetimes.

use core::cell::Cell;
use cortex_m::interrupt::Mutex;
use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::exception;
use intacct_core::client::Timer;
use intacct_core::session::Clock;

/// The MPS2 system clock that drives SysTick, as QEMU models it.
const SYSCLK_HZ: u32 = 25_000_000;

static TICKS_MS: Mutex<Cell<u64>> = Mutex::new(Cell::new(0));

/// Starts SysTick with an interrupt every millisecond.
pub fn start(mut syst: SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(SYSCLK_HZ / 1000 - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

#[exception]
fn SysTick() {
    cortex_m::interrupt::free(|cs| {
        let ticks = TICKS_MS.borrow(cs);
        ticks.set(ticks.get().wrapping_add(1));
    });
}

/// Milliseconds since [`start`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Millis;

impl Clock for Millis {
    fn now_ms(&self) -> u64 {
        cortex_m::interrupt::free(|cs| TICKS_MS.borrow(cs).get())
    }
}

impl Timer for Millis {
    fn delay_ms(&mut self, ms: u32) {
        let start = self.now_ms();
        while self.now_ms().saturating_sub(start) < u64::from(ms) {
            cortex_m::asm::wfi();
        }
    }
}
