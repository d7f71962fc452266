//! TLS 1.3 in software through `embedded-tls`, verified against one CA
//! certificate.

use crate::layer::TlsLayer;
use core::cell::{Cell, UnsafeCell};
use core::fmt;
use core::net::IpAddr;
use embedded_io::{Read, Write};
use embedded_tls::CryptoRngCore;
use embedded_tls::blocking::{
    Aes128GcmSha256, Certificate, CryptoProvider, NoClock, TlsConfig, TlsConnection, TlsContext,
    TlsError, TlsVerifier,
};
use embedded_tls::pki::CertVerifier;

/// Size of the record read buffer that [`TlsBuffers::new`] defaults to:
/// the largest TLS record (16 KiB of plaintext plus 256 bytes of
/// expansion). A smaller buffer works only while the server sends smaller
/// records, which nothing in TLS 1.3 guarantees.
pub const DEFAULT_READ_BUFFER: usize = 16_640;

/// Size of the record write buffer that [`TlsBuffers::new`] defaults to.
/// It must hold the ClientHello; longer writes are split into records of
/// this size.
pub const DEFAULT_WRITE_BUFFER: usize = 4096;

/// Bytes of the server's certificate chain (the TLS `Certificate`
/// message's entries) kept during the handshake, on the stack. A longer
/// chain fails with `TlsError::OutOfMemory`.
pub const CERTIFICATE_CHAIN_CAPACITY: usize = 2048;

/// The record buffers of one TLS connection, lent to one connection at a
/// time.
///
/// The transport hands out connections that outlive each `connect` call,
/// so it cannot lend them a `&mut` borrow of its own buffers. A
/// connection leases these buffers instead, and returns them when it is
/// dropped; opening a second connection while the first is alive fails
/// with [`TlsOpenError::BuffersInUse`]. The client closes its connection
/// before it opens another, so one set is enough for it.
///
/// Place it in a `static` cell or a long-lived local: its size is
/// `READ + WRITE` bytes plus one.
pub struct TlsBuffers<
    const READ: usize = DEFAULT_READ_BUFFER,
    const WRITE: usize = DEFAULT_WRITE_BUFFER,
> {
    read: UnsafeCell<[u8; READ]>,
    write: UnsafeCell<[u8; WRITE]>,
    leased: Cell<bool>,
}

impl<const READ: usize, const WRITE: usize> TlsBuffers<READ, WRITE> {
    /// Zeroed buffers, not leased.
    pub const fn new() -> Self {
        Self {
            read: UnsafeCell::new([0; READ]),
            write: UnsafeCell::new([0; WRITE]),
            leased: Cell::new(false),
        }
    }

    /// Returns whether a connection has leased the buffers now.
    pub fn is_leased(&self) -> bool {
        self.leased.get()
    }

    /// Lends both buffers until the returned guard is dropped, or returns
    /// `None` while they are lent.
    // `&mut` from `&self` is sound here for the reason `RefCell` is: the
    // `leased` flag checks exclusivity at run time.
    #[allow(unsafe_code, clippy::mut_from_ref)]
    fn lease(&self) -> Option<(&mut [u8], &mut [u8], Lease<'_>)> {
        if self.leased.replace(true) {
            return None;
        }
        let lease = Lease {
            leased: &self.leased,
        };
        // SAFETY: `leased` was false, so no reference into the buffers
        // exists, and it stays true until `lease` is dropped, so no other
        // call creates one. Every caller stores the slices next to `lease`
        // in a value that drops the slices first (`TlsStream`, or the
        // locals of `EmbeddedTls::open` on failure). `Cell` makes this type
        // `!Sync`, so no other thread can call `lease` at the same time.
        let read = unsafe { &mut *self.read.get() };
        // SAFETY: as above.
        let write = unsafe { &mut *self.write.get() };
        Some((read, write, lease))
    }
}

impl<const READ: usize, const WRITE: usize> Default for TlsBuffers<READ, WRITE> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const READ: usize, const WRITE: usize> fmt::Debug for TlsBuffers<READ, WRITE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsBuffers")
            .field("read", &READ)
            .field("write", &WRITE)
            .field("leased", &self.leased.get())
            .finish()
    }
}

/// Marks [`TlsBuffers`] lent until dropped.
struct Lease<'a> {
    leased: &'a Cell<bool>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        self.leased.set(false);
    }
}

/// The error of [`EmbeddedTls`] when it cannot open a TLS connection.
#[derive(Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TlsOpenError {
    /// Another connection still has the [`TlsBuffers`], so drop it first.
    BuffersInUse,
    /// The server name is an IP address. Certificates are matched by DNS
    /// name only, so connect by the host name the certificate carries.
    IpAddressServerName,
    /// The handshake failed. `InvalidCertificate` means the chain is not
    /// signed by the configured CA or does not name the host.
    /// `InvalidSignatureScheme` means a certificate algorithm other than
    /// ECDSA P-256. `OutOfMemory` means a chain longer than
    /// [`CERTIFICATE_CHAIN_CAPACITY`].
    Handshake(TlsError),
}

impl fmt::Display for TlsOpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BuffersInUse => f.write_str(
                "the TLS buffers are held by another connection; drop it before connecting again",
            ),
            Self::IpAddressServerName => f.write_str(
                "the server name is an IP address, but certificates are checked by DNS name; \
                 use the host name in the server's certificate",
            ),
            Self::Handshake(error) => write!(f, "TLS handshake failed: {error:?}"),
        }
    }
}

impl core::error::Error for TlsOpenError {}

/// TLS 1.3 through `embedded-tls`: the server's chain must lead to the
/// configured CA certificate and name the target host.
///
/// It offers AES-128-GCM with SHA-256 and a P-256 key share, and verifies
/// ECDSA P-256 signatures. Certificate validity dates are not checked,
/// since a device may have no wall clock.
///
/// `R` is the random number generator for the key exchange. It must be a
/// cryptographically secure generator seeded from a hardware source.
pub struct EmbeddedTls<
    'a,
    R,
    const READ: usize = DEFAULT_READ_BUFFER,
    const WRITE: usize = DEFAULT_WRITE_BUFFER,
> {
    buffers: &'a TlsBuffers<READ, WRITE>,
    ca_der: &'a [u8],
    rng: R,
}

impl<'a, R: CryptoRngCore, const READ: usize, const WRITE: usize> EmbeddedTls<'a, R, READ, WRITE> {
    /// Creates the layer: `ca_der` is the trusted CA certificate in DER.
    pub fn new(buffers: &'a TlsBuffers<READ, WRITE>, ca_der: &'a [u8], rng: R) -> Self {
        Self {
            buffers,
            ca_der,
            rng,
        }
    }
}

impl<R, const READ: usize, const WRITE: usize> fmt::Debug for EmbeddedTls<'_, R, READ, WRITE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedTls")
            .field("buffers", self.buffers)
            .field("ca_der_len", &self.ca_der.len())
            .finish_non_exhaustive()
    }
}

/// The random source and certificate verifier for one handshake.
struct Provider<'r, 'c, R> {
    rng: &'r mut R,
    verifier: CertVerifier<'c, Aes128GcmSha256, NoClock, CERTIFICATE_CHAIN_CAPACITY>,
}

impl<R: CryptoRngCore> CryptoProvider for Provider<'_, '_, R> {
    type CipherSuite = Aes128GcmSha256;
    // No client certificate is sent, so nothing is signed.
    type Signature = [u8; 0];

    fn rng(&mut self) -> impl CryptoRngCore {
        &mut *self.rng
    }

    fn verifier(&mut self) -> Result<&mut impl TlsVerifier<Self::CipherSuite>, TlsError> {
        Ok(&mut self.verifier)
    }
}

impl<'a, S, R, const READ: usize, const WRITE: usize> TlsLayer<S>
    for EmbeddedTls<'a, R, READ, WRITE>
where
    S: Read + Write + 'a,
    R: CryptoRngCore,
{
    type Stream = TlsStream<'a, S>;
    type Error = TlsOpenError;

    fn open(&mut self, stream: S, server_name: &str) -> Result<TlsStream<'a, S>, TlsOpenError> {
        if server_name.parse::<IpAddr>().is_ok() {
            return Err(TlsOpenError::IpAddressServerName);
        }
        let (read, write, lease) = self.buffers.lease().ok_or(TlsOpenError::BuffersInUse)?;
        let mut connection = TlsConnection::new(stream, read, write);

        let config = TlsConfig::new().with_server_name(server_name);
        let provider = Provider {
            rng: &mut self.rng,
            verifier: CertVerifier::new(Certificate::X509(self.ca_der)),
        };
        connection
            .open(TlsContext::new(&config, provider))
            .map_err(TlsOpenError::Handshake)?;

        Ok(TlsStream {
            connection,
            _lease: lease,
        })
    }

    /// Only failures of the connection itself are worth another attempt;
    /// a certificate or configuration the server rejected fails again.
    fn is_transient(error: &TlsOpenError) -> bool {
        match error {
            TlsOpenError::BuffersInUse | TlsOpenError::IpAddressServerName => false,
            TlsOpenError::Handshake(error) => matches!(
                error,
                TlsError::ConnectionClosed | TlsError::IoError | TlsError::Io(_)
            ),
        }
    }
}

/// A TLS connection over `S`, holding the [`TlsBuffers`] until dropped.
///
/// Dropping it closes the underlying stream without a TLS `close_notify`;
/// the HTTP framing already marks where each response ends.
pub struct TlsStream<'a, S: Read + Write + 'a> {
    // Declared before `_lease` so it is dropped first, because it
    // contains the leased buffers.
    connection: TlsConnection<'a, S, Aes128GcmSha256>,
    _lease: Lease<'a>,
}

impl<'a, S: Read + Write + 'a> embedded_io::ErrorType for TlsStream<'a, S> {
    type Error = TlsError;
}

impl<'a, S: Read + Write + 'a> Read for TlsStream<'a, S> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, TlsError> {
        self.connection.read(buf)
    }
}

impl<'a, S: Read + Write + 'a> Write for TlsStream<'a, S> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, TlsError> {
        self.connection.write(buf)
    }

    fn flush(&mut self) -> Result<(), TlsError> {
        self.connection.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_lent_once_until_returned() {
        let buffers = TlsBuffers::<32, 16>::new();

        let first = buffers.lease();
        assert!(first.is_some());
        assert!(buffers.is_leased());
        assert!(buffers.lease().is_none());

        drop(first);
        assert!(!buffers.is_leased());
        let (read, write, _lease) = buffers.lease().unwrap();
        assert_eq!((read.len(), write.len()), (32, 16));
    }
}
