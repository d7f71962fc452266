//! The byte-stream abstraction the client drives.
//!
//! A [`Transport`] opens a connection to a host and port and hands back a
//! byte stream. TLS, DNS and sockets are the transport's concern; HTTP, XML
//! and session logic stay in this crate, so host tests run the same protocol
//! code as a device.

/// The security a connection needs, taken from the endpoint's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Security {
    /// Plain TCP (`http://`). Only reachable through an explicit allow-list
    /// entry, for a local test gateway or a modem that terminates TLS itself.
    Plain,
    /// TLS with certificate and host name verification (`https://`).
    Tls,
}

/// The destination of a transport's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Target<'a> {
    /// Host name or IP literal, without brackets and without a trailing dot.
    pub host: &'a str,
    /// TCP port.
    pub port: u16,
    /// Whether the connection must be wrapped in TLS.
    pub security: Security,
}

/// Opens byte streams to gateways.
///
/// Implementations connect (resolving the host if needed), apply TLS when
/// [`Target::security`] is [`Security::Tls`], and return a stream that reads
/// and writes plain HTTP bytes. An error from [`Transport::connect`] counts as
/// a connection failure, which the client retries unless
/// [`Transport::is_transient`] reports that another attempt would fail the same way.
pub trait Transport {
    /// The open stream. Dropping it closes the connection.
    type Connection: embedded_io::Read + embedded_io::Write;

    /// Why a connection could not be opened. Its `Display` states what
    /// failed and must not contain a secret.
    type Error: core::fmt::Debug + core::fmt::Display;

    /// Opens a connection to `target`.
    fn connect(&mut self, target: Target<'_>) -> Result<Self::Connection, Self::Error>;

    /// Returns whether another attempt could succeed after `error`. The
    /// default is `true`; a transport returns `false` for failures that
    /// repeat, such as an untrusted certificate, so the client does not
    /// retry them.
    fn is_transient(error: &Self::Error) -> bool {
        let _ = error;
        true
    }
}
