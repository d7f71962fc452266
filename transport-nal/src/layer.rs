//! The pluggable TLS step between a TCP stream and the client.

use core::convert::Infallible;
use core::fmt;
use embedded_io::{Read, Write};

/// Turns a connected byte stream into the stream for an `https` target.
///
/// The transport calls [`TlsLayer::open`] only for targets whose security
/// is [`Security::Tls`](intacct_core::transport::Security::Tls); `http`
/// targets, which the client reaches only through an explicit
/// `AllowedOrigin`, stay plain.
pub trait TlsLayer<S> {
    /// The stream after the handshake.
    type Stream: Read + Write;

    /// The error when the stream cannot be opened.
    type Error: fmt::Debug;

    /// Runs the handshake on `stream` for `server_name`, the host name the
    /// server's certificate must carry.
    fn open(&mut self, stream: S, server_name: &str) -> Result<Self::Stream, Self::Error>;

    /// Returns whether another attempt could succeed after `error`. The
    /// default is `true`; a layer returns `false` for failures that repeat,
    /// such as an untrusted certificate, so the client does not retry them.
    fn is_transient(error: &Self::Error) -> bool {
        let _ = error;
        true
    }
}

impl<S, L: TlsLayer<S> + ?Sized> TlsLayer<S> for &mut L {
    type Stream = L::Stream;
    type Error = L::Error;

    fn open(&mut self, stream: S, server_name: &str) -> Result<Self::Stream, Self::Error> {
        (**self).open(stream, server_name)
    }

    fn is_transient(error: &Self::Error) -> bool {
        L::is_transient(error)
    }
}

/// No TLS: `https` targets fail with [`TlsUnavailable`].
///
/// For builds that only ever reach an allow-listed `http` origin, such as
/// a local simulator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NoTls;

/// The error [`NoTls`] returns for every `https` target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TlsUnavailable;

impl fmt::Display for TlsUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the target is https but the transport has no TLS layer; \
             use EmbeddedTls (feature `tls`) or OffloadedTls",
        )
    }
}

impl core::error::Error for TlsUnavailable {}

impl<S: Read + Write> TlsLayer<S> for NoTls {
    type Stream = S;
    type Error = TlsUnavailable;

    fn open(&mut self, _stream: S, _server_name: &str) -> Result<S, TlsUnavailable> {
        Err(TlsUnavailable)
    }

    fn is_transient(_error: &TlsUnavailable) -> bool {
        false
    }
}

/// TLS done by the network stack itself: `https` targets get the stack's
/// stream unchanged.
///
/// For cellular modems and Wi-Fi offload chips whose sockets encrypt and
/// verify certificates on the chip. Configuring those sockets for TLS (CA,
/// server name checking) is the stack driver's job; this layer only states
/// that it was done. Used with a stack that sends plain TCP, it sends
/// credentials in the clear.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct OffloadedTls;

impl<S: Read + Write> TlsLayer<S> for OffloadedTls {
    type Stream = S;
    type Error = Infallible;

    fn open(&mut self, stream: S, _server_name: &str) -> Result<S, Infallible> {
        Ok(stream)
    }
}
