//! UART0 of the MPS2 board (an Arm CMSDK APB UART) as a byte stream, and a
//! transport that hands that stream out.
//!
//! QEMU started with `-serial tcp:127.0.0.1:PORT` opens a TCP connection to
//! PORT before the firmware runs and copies bytes between it and UART0. To
//! the firmware the UART *is* the open connection, so
//! [`UartTransport::connect`] opens nothing: it hands out the stream once.
//! A second connect fails, since the firmware cannot reopen the bridge
//! after the server closes its end.

use crate::clock::Millis;
use core::fmt;
use core::ptr::{read_volatile, write_volatile};
use embedded_io::ErrorKind;
use intacct_core::session::Clock;
use intacct_core::transport::{Security, Target, Transport};
use intacct_transport_nal::{Connection, TlsLayer};

/// UART0 registers (CMSDK APB UART, Arm DDI0479C).
const UART0_BASE: usize = 0x4000_4000;
const DATA: usize = UART0_BASE;
const STATE: usize = UART0_BASE + 0x04;
const CTRL: usize = UART0_BASE + 0x08;
const BAUDDIV: usize = UART0_BASE + 0x10;

const STATE_TX_FULL: u32 = 1 << 0;
const STATE_RX_FULL: u32 = 1 << 1;
const CTRL_TX_ENABLE: u32 = 1 << 0;
const CTRL_RX_ENABLE: u32 = 1 << 1;

/// Smallest divider the UART accepts; QEMU ignores the baud rate anyway.
const MIN_BAUDDIV: u32 = 16;

fn read_register(address: usize) -> u32 {
    // SAFETY: `address` is one of the UART0 registers above, which the
    // board maps as 32-bit device memory.
    unsafe { read_volatile(address as *const u32) }
}

fn write_register(address: usize, value: u32) {
    // SAFETY: as in `read_register`.
    unsafe { write_volatile(address as *mut u32, value) }
}

/// Enables the transmitter and receiver of UART0.
pub fn init() {
    write_register(BAUDDIV, MIN_BAUDDIV);
    write_register(CTRL, CTRL_TX_ENABLE | CTRL_RX_ENABLE);
}

/// UART0 as a blocking byte stream.
///
/// A read waits up to `timeout_ms` for the first byte and then takes what
/// has arrived; a read after a timeout fails with `TimedOut`.
pub struct UartStream {
    timeout_ms: u32,
}

impl embedded_io::ErrorType for UartStream {
    type Error = ErrorKind;
}

impl embedded_io::Read for UartStream {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        if buf.is_empty() {
            return Ok(0);
        }
        let start = Millis.now_ms();
        while read_register(STATE) & STATE_RX_FULL == 0 {
            if Millis.now_ms().saturating_sub(start) >= u64::from(self.timeout_ms) {
                return Err(ErrorKind::TimedOut);
            }
        }
        let mut len = 0;
        for byte in buf.iter_mut() {
            if read_register(STATE) & STATE_RX_FULL == 0 {
                break;
            }
            *byte = read_register(DATA) as u8;
            len += 1;
        }
        Ok(len)
    }
}

impl embedded_io::Write for UartStream {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        for &byte in buf {
            while read_register(STATE) & STATE_TX_FULL != 0 {}
            write_register(DATA, u32::from(byte));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        while read_register(STATE) & STATE_TX_FULL != 0 {}
        Ok(())
    }
}

/// The error of [`UartTransport::connect`].
#[derive(Debug)]
pub enum UartConnectError<L> {
    /// The stream was handed out before; the bridge cannot be reopened.
    AlreadyConnected,
    /// The TLS layer failed.
    Tls(L),
}

impl<L: fmt::Debug> fmt::Display for UartConnectError<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyConnected => f.write_str(
                "the UART stream to the gateway was used already; restart QEMU to open a new connection",
            ),
            Self::Tls(error) => write!(f, "TLS setup over the UART failed: {error:?}"),
        }
    }
}

/// A transport whose only connection is UART0.
pub struct UartTransport<L> {
    tls: L,
    timeout_ms: u32,
    connected: bool,
}

impl<L> UartTransport<L> {
    /// Creates the transport; reads time out after `timeout_ms`.
    pub fn new(tls: L, timeout_ms: u32) -> Self {
        Self {
            tls,
            timeout_ms,
            connected: false,
        }
    }
}

impl<L: TlsLayer<UartStream>> Transport for UartTransport<L> {
    type Connection = Connection<UartStream, L::Stream>;
    type Error = UartConnectError<L::Error>;

    /// Hands out the UART stream: QEMU connected it to the target's port
    /// when it started, so `target` selects only plain or TLS.
    fn is_transient(error: &Self::Error) -> bool {
        match error {
            UartConnectError::AlreadyConnected => false,
            UartConnectError::Tls(error) => L::is_transient(error),
        }
    }

    fn connect(&mut self, target: Target<'_>) -> Result<Self::Connection, Self::Error> {
        if self.connected {
            return Err(UartConnectError::AlreadyConnected);
        }
        self.connected = true;
        let stream = UartStream {
            timeout_ms: self.timeout_ms,
        };
        match target.security {
            Security::Plain => Ok(Connection::Plain(stream)),
            Security::Tls => self
                .tls
                .open(stream, target.host)
                .map(Connection::Tls)
                .map_err(UartConnectError::Tls),
        }
    }
}
