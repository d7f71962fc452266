//! [`StdConnection`]: an open plain or TLS byte stream.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use rustls::{ClientConnection, StreamOwned};

use crate::error::{Seconds, is_timeout_kind};

/// An open connection from [`StdTransport`](crate::StdTransport): plain TCP
/// or TLS over TCP.
///
/// It implements [`embedded_io::Read`] and [`embedded_io::Write`] with
/// `std::io::Error` as the error type, and the same `std::io` traits.
///
/// - A read returning `Ok(0)` means the server closed the connection (for
///   TLS, with a `close_notify` alert).
/// - A TLS server that closes the TCP connection without `close_notify` makes
///   the read fail with [`io::ErrorKind::UnexpectedEof`], as rustls reports
///   it, because the data may have been cut short.
/// - A read or write past its timeout fails with
///   [`io::ErrorKind::TimedOut`] (mapped to
///   [`embedded_io::ErrorKind::TimedOut`]) and a message naming the peer and
///   the timeout. The operating system reports these as `WouldBlock` on
///   Unix, which this type rewrites.
/// - Writes on a TLS connection are buffered until [`embedded_io::Write::flush`].
///
/// Dropping a TLS connection sends `close_notify` on a best-effort basis,
/// then closes the socket.
pub struct StdConnection {
    stream: Stream,
    peer: String,
    read_timeout: Duration,
    write_timeout: Duration,
}

#[derive(Clone, Copy)]
enum Direction {
    Read,
    Write,
}

enum Stream {
    Plain(TcpStream),
    // Boxed because the rustls state is large compared to a TcpStream.
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl StdConnection {
    pub(crate) fn plain(
        stream: TcpStream,
        host: &str,
        port: u16,
        read_timeout: Duration,
        write_timeout: Duration,
    ) -> Self {
        Self {
            stream: Stream::Plain(stream),
            peer: format!("{host}:{port}"),
            read_timeout,
            write_timeout,
        }
    }

    pub(crate) fn tls(
        stream: StreamOwned<ClientConnection, TcpStream>,
        host: &str,
        port: u16,
        read_timeout: Duration,
        write_timeout: Duration,
    ) -> Self {
        Self {
            stream: Stream::Tls(Box::new(stream)),
            peer: format!("{host}:{port}"),
            read_timeout,
            write_timeout,
        }
    }

    /// Returns `true` when the connection is wrapped in TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    /// Returns the remote socket address.
    ///
    /// # Errors
    ///
    /// The operating system's error, for example when the socket is no
    /// longer connected.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.socket().peer_addr()
    }

    fn socket(&self) -> &TcpStream {
        match &self.stream {
            Stream::Plain(stream) => stream,
            Stream::Tls(stream) => stream.get_ref(),
        }
    }

    /// Rewrites a socket timeout, which Unix reports as `WouldBlock`, into a
    /// `TimedOut` error that names the peer, the operation and the timeout.
    fn map_error(&self, error: io::Error, direction: Direction) -> io::Error {
        if !is_timeout_kind(error.kind()) {
            return error;
        }
        let message = match direction {
            Direction::Read => format!(
                "read from {} timed out after {} (read_timeout)",
                self.peer,
                Seconds(self.read_timeout)
            ),
            Direction::Write => format!(
                "write to {} timed out after {} (write_timeout)",
                self.peer,
                Seconds(self.write_timeout)
            ),
        };
        io::Error::new(io::ErrorKind::TimedOut, message)
    }
}

impl core::fmt::Debug for StdConnection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StdConnection")
            .field("peer", &self.peer)
            .field("tls", &self.is_tls())
            .finish_non_exhaustive()
    }
}

impl io::Read for StdConnection {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = match &mut self.stream {
            Stream::Plain(stream) => stream.read(buf),
            Stream::Tls(stream) => stream.read(buf),
        };
        result.map_err(|error| self.map_error(error, Direction::Read))
    }
}

impl io::Write for StdConnection {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let result = match &mut self.stream {
            Stream::Plain(stream) => stream.write(buf),
            Stream::Tls(stream) => stream.write(buf),
        };
        result.map_err(|error| self.map_error(error, Direction::Write))
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = match &mut self.stream {
            Stream::Plain(stream) => stream.flush(),
            Stream::Tls(stream) => stream.flush(),
        };
        result.map_err(|error| self.map_error(error, Direction::Write))
    }
}

impl embedded_io::ErrorType for StdConnection {
    type Error = io::Error;
}

impl embedded_io::Read for StdConnection {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, io::Error> {
        loop {
            match io::Read::read(self, buf) {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }
}

impl embedded_io::Write for StdConnection {
    fn write(&mut self, buf: &[u8]) -> Result<usize, io::Error> {
        loop {
            match io::Write::write(self, buf) {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }

    fn flush(&mut self) -> Result<(), io::Error> {
        loop {
            match io::Write::flush(self) {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }
}

impl Drop for StdConnection {
    fn drop(&mut self) {
        if let Stream::Tls(stream) = &mut self.stream {
            stream.conn.send_close_notify();
            // Best effort: the write timeout bounds each attempt, and a
            // failure only means the server gets a plain TCP close.
            while stream.conn.wants_write() {
                match stream.conn.write_tls(&mut stream.sock) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        }
    }
}
