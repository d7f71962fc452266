//! Peak stack measurement: paint the free stack with a pattern, run, then
//! find the lowest word the run overwrote.

use core::ptr::{addr_of, read_volatile, write_volatile};

/// The pattern painted on unused stack words.
const PAINT: u32 = 0x5AC3_5AC3;

/// Bytes below the current stack pointer left unpainted, for the frame of
/// `paint` itself.
const MARGIN: usize = 256;

unsafe extern "C" {
    /// Lowest address the stack may grow to: the end of `.bss` and
    /// `.uninit` (cortex-m-rt's `link.x`, with no heap).
    static __sheap: u32;
    /// Initial stack pointer: the top of RAM (cortex-m-rt's `link.x`).
    static _stack_start: u32;
}

fn bottom() -> usize {
    addr_of!(__sheap) as usize
}

fn top() -> usize {
    addr_of!(_stack_start) as usize
}

/// Paints every word from the bottom of the stack up to `MARGIN` bytes
/// below the current stack pointer.
#[inline(never)]
pub fn paint() {
    let end = (cortex_m::register::msp::read() as usize).saturating_sub(MARGIN) & !3;
    let mut address = bottom();
    while address < end {
        // SAFETY: `address` lies between the end of the statics and the
        // live part of the stack, in RAM that nothing uses yet.
        unsafe { write_volatile(address as *mut u32, PAINT) };
        address += 4;
    }
}

/// Bytes of stack used at most since [`paint`], counting from the top of
/// RAM: the distance from the top to the lowest overwritten word.
#[inline(never)]
pub fn peak_bytes() -> usize {
    let mut address = bottom();
    let top = top();
    while address < top {
        // SAFETY: `address` lies in RAM between the statics and the top
        // of the stack.
        if unsafe { read_volatile(address as *const u32) } != PAINT {
            break;
        }
        address += 4;
    }
    top - address
}
