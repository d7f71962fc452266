//! A connected embedded-nal TCP socket as a blocking `embedded_io` stream.

use core::cell::RefCell;
use embedded_io::ErrorKind;
use embedded_nal::{TcpClientStack, TcpError as _, TcpErrorKind, nb};
use intacct_core::client::Timer;

/// How long the transport waits for a stack that returns `WouldBlock`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Timeouts {
    /// Maximum wait for DNS resolution and for the TCP connect, each, in
    /// milliseconds.
    pub connect_ms: u32,
    /// Maximum wait for one send or receive to make progress, in
    /// milliseconds.
    pub io_ms: u32,
    /// Delay between two polls of a call that returned `WouldBlock`, in
    /// milliseconds. `0` polls again at once.
    pub poll_interval_ms: u32,
}

impl Timeouts {
    /// 10 s to resolve and connect, 30 s per send or receive, polling
    /// every millisecond.
    pub const DEFAULT: Self = Self {
        connect_ms: 10_000,
        io_ms: 30_000,
        poll_interval_ms: 1,
    };
}

impl Default for Timeouts {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The reason polling a non-blocking call stopped without a result.
pub(crate) enum PollError<E> {
    /// The call kept returning `WouldBlock` past the timeout.
    TimedOut,
    /// The call failed.
    Failed(E),
}

/// Calls `call` until it returns something other than `WouldBlock`, waiting
/// `poll_interval_ms` between calls, for at most `timeout_ms`.
pub(crate) fn poll<T, E>(
    timer: &mut impl Timer,
    timeout_ms: u32,
    poll_interval_ms: u32,
    mut call: impl FnMut() -> nb::Result<T, E>,
) -> Result<T, PollError<E>> {
    let start = timer.now_ms();
    loop {
        match call() {
            Ok(value) => return Ok(value),
            Err(nb::Error::Other(error)) => return Err(PollError::Failed(error)),
            Err(nb::Error::WouldBlock) => {}
        }
        if timer.now_ms().saturating_sub(start) >= u64::from(timeout_ms) {
            return Err(PollError::TimedOut);
        }
        if poll_interval_ms > 0 {
            timer.delay_ms(poll_interval_ms);
        }
    }
}

/// An open TCP connection on an embedded-nal stack.
///
/// Reads block until at least one byte arrives, the peer closes the
/// connection (a read of 0 bytes) or [`Timeouts::io_ms`] passes. Errors are
/// `embedded_io::ErrorKind`s: `TimedOut`, `BrokenPipe` for a socket closed
/// in that direction, `NotConnected` after a failed call closed the socket,
/// and `Other` for the stack's other errors or a stack that is already
/// borrowed. Dropping the stream closes the socket.
pub struct NalStream<'a, S: TcpClientStack, M> {
    stack: &'a RefCell<S>,
    socket: Option<S::TcpSocket>,
    timer: M,
    timeouts: Timeouts,
}

impl<'a, S: TcpClientStack, M: Timer> NalStream<'a, S, M> {
    /// Wraps a socket that `stack` has connected.
    pub fn new(stack: &'a RefCell<S>, socket: S::TcpSocket, timer: M, timeouts: Timeouts) -> Self {
        Self {
            stack,
            socket: Some(socket),
            timer,
            timeouts,
        }
    }

    /// Polls `call` on the socket until it makes progress, within
    /// [`Timeouts::io_ms`].
    fn poll_socket<T>(
        &mut self,
        mut call: impl FnMut(&mut S, &mut S::TcpSocket) -> nb::Result<T, S::Error>,
    ) -> Result<T, ErrorKind> {
        let stack = self.stack;
        let socket = self.socket.as_mut().ok_or(ErrorKind::NotConnected)?;
        let result = poll(
            &mut self.timer,
            self.timeouts.io_ms,
            self.timeouts.poll_interval_ms,
            || match stack.try_borrow_mut() {
                Ok(mut stack) => call(&mut stack, socket).map_err(|error| match error {
                    nb::Error::WouldBlock => nb::Error::WouldBlock,
                    nb::Error::Other(error) => nb::Error::Other(tcp_error_kind(error.kind())),
                }),
                Err(_) => Err(nb::Error::Other(ErrorKind::Other)),
            },
        );
        match result {
            Ok(value) => Ok(value),
            Err(PollError::TimedOut) => Err(ErrorKind::TimedOut),
            Err(PollError::Failed(kind)) => Err(kind),
        }
    }
}

/// Maps an embedded-nal TCP error kind to an `embedded_io` one.
pub(crate) fn tcp_error_kind(kind: TcpErrorKind) -> ErrorKind {
    match kind {
        TcpErrorKind::PipeClosed => ErrorKind::BrokenPipe,
        _ => ErrorKind::Other,
    }
}

impl<S: TcpClientStack, M> Drop for NalStream<'_, S, M> {
    fn drop(&mut self) {
        if let Some(socket) = self.socket.take() {
            // A stack borrowed elsewhere cannot close the socket now; the
            // socket value is dropped either way.
            if let Ok(mut stack) = self.stack.try_borrow_mut() {
                let _ = stack.close(socket);
            }
        }
    }
}

impl<S: TcpClientStack, M> embedded_io::ErrorType for NalStream<'_, S, M> {
    type Error = ErrorKind;
}

impl<S: TcpClientStack, M: Timer> embedded_io::Read for NalStream<'_, S, M> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.poll_socket(|stack, socket| stack.receive(socket, buf))
    }
}

impl<S: TcpClientStack, M: Timer> embedded_io::Write for NalStream<'_, S, M> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        // A send that accepts no bytes counts as no progress, like
        // `WouldBlock`.
        self.poll_socket(|stack, socket| match stack.send(socket, buf) {
            Ok(0) => Err(nb::Error::WouldBlock),
            other => other,
        })
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        // embedded-nal has no flush: `send` hands the bytes to the stack.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use intacct_core::session::Clock;

    /// A clock that moves only when waited on.
    struct ManualTimer {
        now_ms: u64,
        delays: u32,
    }

    impl Clock for ManualTimer {
        fn now_ms(&self) -> u64 {
            self.now_ms
        }
    }

    impl Timer for ManualTimer {
        fn delay_ms(&mut self, ms: u32) {
            self.now_ms += u64::from(ms);
            self.delays += 1;
        }
    }

    #[test]
    fn poll_returns_value_after_would_block() {
        let mut timer = ManualTimer {
            now_ms: 0,
            delays: 0,
        };
        let mut calls = 0;

        let result: Result<u8, PollError<()>> = poll(&mut timer, 100, 5, || {
            calls += 1;
            if calls < 3 {
                Err(nb::Error::WouldBlock)
            } else {
                Ok(7)
            }
        });

        assert!(matches!(result, Ok(7)));
        assert_eq!(calls, 3);
        assert_eq!(timer.delays, 2);
    }

    #[test]
    fn poll_times_out() {
        let mut timer = ManualTimer {
            now_ms: 0,
            delays: 0,
        };

        let result: Result<(), PollError<()>> =
            poll(&mut timer, 100, 10, || Err(nb::Error::WouldBlock));

        assert!(matches!(result, Err(PollError::TimedOut)));
        assert_eq!(timer.now_ms, 100);
    }

    #[test]
    fn poll_stops_on_error() {
        let mut timer = ManualTimer {
            now_ms: 0,
            delays: 0,
        };

        let result: Result<(), PollError<&str>> =
            poll(&mut timer, 100, 10, || Err(nb::Error::Other("refused")));

        assert!(matches!(result, Err(PollError::Failed("refused"))));
        assert_eq!(timer.delays, 0);
    }

    #[test]
    fn pipe_closed_maps_to_broken_pipe() {
        assert_eq!(
            tcp_error_kind(TcpErrorKind::PipeClosed),
            ErrorKind::BrokenPipe
        );
        assert_eq!(tcp_error_kind(TcpErrorKind::Other), ErrorKind::Other);
    }
}
