//! The stream a transport hands out: plain or wrapped in TLS.

use embedded_io::{Error as _, ErrorKind, Read, Write};

/// An open connection: the plain stream for an `http` target, or the
/// stream a [`TlsLayer`](crate::TlsLayer) returned for an `https` target.
///
/// Errors are reduced to their `embedded_io::ErrorKind`, which is what the
/// client reports.
#[derive(Debug)]
pub enum Connection<P, T> {
    /// Plain TCP.
    Plain(P),
    /// The TLS layer's stream.
    Tls(T),
}

impl<P, T> embedded_io::ErrorType for Connection<P, T> {
    type Error = ErrorKind;
}

impl<P: Read, T: Read> Read for Connection<P, T> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        match self {
            Self::Plain(stream) => stream.read(buf).map_err(|error| error.kind()),
            Self::Tls(stream) => stream.read(buf).map_err(|error| error.kind()),
        }
    }
}

impl<P: Write, T: Write> Write for Connection<P, T> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        match self {
            Self::Plain(stream) => stream.write(buf).map_err(|error| error.kind()),
            Self::Tls(stream) => stream.write(buf).map_err(|error| error.kind()),
        }
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        match self {
            Self::Plain(stream) => stream.flush().map_err(|error| error.kind()),
            Self::Tls(stream) => stream.flush().map_err(|error| error.kind()),
        }
    }
}
