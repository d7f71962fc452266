//! [`StdTransport`]: TCP through `std::net` and TLS through rustls.

use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use intacct_core::transport::{Security, Target, Transport};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use rustls_pki_types::ServerName;

use crate::connection::StdConnection;
use crate::error::{ConnectAttempt, HandshakeFailure, Seconds, TransportError};
use crate::roots;

/// Default time allowed for each TCP connect attempt: 10 seconds.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Default time a single read may wait for data: 60 seconds.
///
/// It is long because the gateway can take tens of seconds before the first
/// byte of a response arrives. It also bounds each wait for the server
/// during the TLS handshake.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Default time a single write may wait for the socket to accept data:
/// 30 seconds.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// The ALPN protocol offered in the TLS handshake, because the client speaks
/// HTTP/1.1 only.
const ALPN_HTTP_1_1: &[u8] = b"http/1.1";

/// A [`Transport`] over `std::net` TCP, with TLS through rustls.
///
/// - Hosts resolve through the operating system (`ToSocketAddrs`). Each
///   resolved address is tried in turn, each with the connect timeout, so a
///   host with several unreachable addresses can take a multiple of it.
/// - `TCP_NODELAY` is on, and the read and write timeouts apply to every
///   socket operation, including the TLS handshake.
/// - [`Security::Tls`] targets get TLS 1.2 or 1.3 with the *ring* provider.
///   The certificate and host name are always verified and nothing in this
///   API turns verification off. SNI carries the host name; an IP-literal
///   host (`127.0.0.1`, `::1`) is matched against the certificate's IP
///   address names and sends no SNI.
/// - Roots: the Mozilla CA set bundled in `webpki-roots` by default, plus any
///   CA added with [`StdTransportBuilder::add_root_pem`] or
///   [`StdTransportBuilder::add_root_pem_file`], plus the platform store with
///   feature `native-roots` and `StdTransportBuilder::use_native_roots`.
///
/// The TLS handshake completes inside [`Transport::connect`], so certificate
/// problems surface there as [`TransportError::TlsHandshake`].
///
/// Cloning is cheap: clones share one TLS configuration.
#[derive(Clone)]
pub struct StdTransport {
    connect_timeout: Duration,
    read_timeout: Duration,
    write_timeout: Duration,
    tls: Arc<ClientConfig>,
}

impl core::fmt::Debug for StdTransport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StdTransport")
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("write_timeout", &self.write_timeout)
            .finish_non_exhaustive()
    }
}

impl StdTransport {
    /// Builds a transport with the default timeouts and the bundled Mozilla
    /// roots.
    ///
    /// # Errors
    ///
    /// [`TransportError::TlsConfig`] if rustls rejects the configuration,
    /// which does not happen with the *ring* provider this crate uses.
    pub fn new() -> Result<Self, TransportError> {
        Self::builder().build()
    }

    /// Starts a builder with the defaults: [`DEFAULT_CONNECT_TIMEOUT`],
    /// [`DEFAULT_READ_TIMEOUT`], [`DEFAULT_WRITE_TIMEOUT`] and the bundled
    /// Mozilla roots.
    pub fn builder() -> StdTransportBuilder {
        StdTransportBuilder::default()
    }

    /// Returns the connect timeout for each resolved address.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// Returns the timeout for each read, including reads during the TLS
    /// handshake.
    pub fn read_timeout(&self) -> Duration {
        self.read_timeout
    }

    /// Returns the timeout for each write.
    pub fn write_timeout(&self) -> Duration {
        self.write_timeout
    }

    /// Resolves `host` and connects to the first address that accepts.
    fn connect_tcp(&self, host: &str, port: u16) -> Result<TcpStream, TransportError> {
        let addrs: Vec<SocketAddr> = (host, port)
            .to_socket_addrs()
            .map_err(|source| TransportError::Resolve {
                host: host.to_owned(),
                source: Some(source),
            })?
            .collect();
        if addrs.is_empty() {
            return Err(TransportError::Resolve {
                host: host.to_owned(),
                source: None,
            });
        }

        let mut attempts = Vec::new();
        for addr in addrs {
            log::debug!("connecting to {host}:{port} at {addr}");
            match TcpStream::connect_timeout(&addr, self.connect_timeout) {
                Ok(stream) => {
                    log::debug!("connected to {host}:{port} at {addr}");
                    return Ok(stream);
                }
                Err(error) => {
                    log::debug!("connect to {host}:{port} at {addr} failed: {error}");
                    attempts.push(ConnectAttempt { addr, error });
                }
            }
        }
        Err(TransportError::Connect {
            host: host.to_owned(),
            port,
            timeout: self.connect_timeout,
            attempts,
        })
    }

    /// Sets `TCP_NODELAY` and the read and write timeouts.
    fn configure_socket(
        &self,
        stream: &TcpStream,
        host: &str,
        port: u16,
    ) -> Result<(), TransportError> {
        let option_error = |option: &'static str| {
            move |source: io::Error| TransportError::SocketOption {
                host: host.to_owned(),
                port,
                option,
                source,
            }
        };
        stream
            .set_nodelay(true)
            .map_err(option_error("TCP_NODELAY"))?;
        stream
            .set_read_timeout(Some(self.read_timeout))
            .map_err(option_error("SO_RCVTIMEO (read timeout)"))?;
        stream
            .set_write_timeout(Some(self.write_timeout))
            .map_err(option_error("SO_SNDTIMEO (write timeout)"))?;
        Ok(())
    }

    /// Runs the TLS handshake to completion over `stream`.
    fn handshake(
        &self,
        stream: TcpStream,
        host: &str,
        port: u16,
    ) -> Result<StreamOwned<ClientConnection, TcpStream>, TransportError> {
        let server_name = ServerName::try_from(host.to_owned()).map_err(|_| {
            TransportError::InvalidServerName {
                host: host.to_owned(),
            }
        })?;
        let handshake_error = |source: HandshakeFailure| TransportError::TlsHandshake {
            host: host.to_owned(),
            port,
            timeout: self.read_timeout,
            source,
        };

        let mut connection = ClientConnection::new(Arc::clone(&self.tls), server_name)
            .map_err(|error| handshake_error(HandshakeFailure::Tls(error)))?;
        let mut stream = stream;
        while connection.is_handshaking() {
            // complete_io returns once the handshake is done, and fails with
            // UnexpectedEof when the server closes the connection first.
            if let Err(error) = connection.complete_io(&mut stream) {
                return Err(handshake_error(split_tls_error(error)));
            }
        }

        let version = connection
            .protocol_version()
            .map_or_else(|| "unknown version".to_owned(), |v| format!("{v:?}"));
        let suite = connection.negotiated_cipher_suite().map_or_else(
            || "unknown cipher suite".to_owned(),
            |s| format!("{:?}", s.suite()),
        );
        log::debug!("TLS handshake with {host}:{port} done: {version}, {suite}");
        Ok(StreamOwned::new(connection, stream))
    }
}

/// Separates a rustls error wrapped in an `io::Error` by `complete_io` from a
/// plain socket error.
fn split_tls_error(error: io::Error) -> HandshakeFailure {
    let is_tls = error
        .get_ref()
        .is_some_and(|inner| inner.is::<rustls::Error>());
    if !is_tls {
        return HandshakeFailure::Io(error);
    }
    match error
        .into_inner()
        .map(|inner| inner.downcast::<rustls::Error>())
    {
        Some(Ok(tls)) => HandshakeFailure::Tls(*tls),
        // Unreachable after the `is` check above, but kept total.
        Some(Err(other)) => HandshakeFailure::Io(io::Error::other(other)),
        None => HandshakeFailure::Io(io::Error::other("TLS error without details")),
    }
}

impl Transport for StdTransport {
    type Connection = StdConnection;
    type Error = TransportError;

    /// Failures that rustls reports during the handshake (an untrusted
    /// certificate, an alert, no common protocol version) and invalid server
    /// names repeat on every attempt. Socket failures (refused, timed out,
    /// reset) may not.
    fn is_transient(error: &TransportError) -> bool {
        !matches!(
            error,
            TransportError::TlsHandshake {
                source: HandshakeFailure::Tls(_),
                ..
            } | TransportError::InvalidServerName { .. }
        )
    }

    fn connect(&mut self, target: Target<'_>) -> Result<StdConnection, TransportError> {
        let Target {
            host,
            port,
            security,
        } = target;
        let result = self.connect_tcp(host, port).and_then(|stream| {
            self.configure_socket(&stream, host, port)?;
            match security {
                Security::Plain => Ok(StdConnection::plain(
                    stream,
                    host,
                    port,
                    self.read_timeout,
                    self.write_timeout,
                )),
                Security::Tls => {
                    let tls = self.handshake(stream, host, port)?;
                    Ok(StdConnection::tls(
                        tls,
                        host,
                        port,
                        self.read_timeout,
                        self.write_timeout,
                    ))
                }
            }
        });
        if let Err(error) = &result {
            log::warn!("{error}");
        }
        result
    }
}

/// Configures and builds a [`StdTransport`].
///
/// ```no_run
/// use std::time::Duration;
/// use intacct_transport_std::StdTransport;
///
/// # fn main() -> Result<(), intacct_transport_std::TransportError> {
/// let transport = StdTransport::builder()
///     .connect_timeout(Duration::from_secs(5))
///     .read_timeout(Duration::from_secs(90))
///     .add_root_pem_file("test-gateway-ca.pem")?
///     .build()?;
/// # let _ = transport;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct StdTransportBuilder {
    connect_timeout: Duration,
    read_timeout: Duration,
    write_timeout: Duration,
    bundled_roots: bool,
    #[cfg(feature = "native-roots")]
    native_roots: bool,
    extra_roots: RootCertStore,
}

impl Default for StdTransportBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            bundled_roots: true,
            #[cfg(feature = "native-roots")]
            native_roots: false,
            extra_roots: RootCertStore::empty(),
        }
    }
}

impl StdTransportBuilder {
    /// Sets the time allowed for each TCP connect attempt (default
    /// [`DEFAULT_CONNECT_TIMEOUT`]). Must be greater than zero.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the time each read, including each wait for the server during
    /// the TLS handshake, may block (default [`DEFAULT_READ_TIMEOUT`]). Must
    /// be greater than zero.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Sets the time each write may block (default
    /// [`DEFAULT_WRITE_TIMEOUT`]). Must be greater than zero.
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// Chooses whether to trust the Mozilla root CAs bundled by
    /// `webpki-roots` (default `true`).
    ///
    /// Turn them off to trust only the CAs added with
    /// [`add_root_pem`](Self::add_root_pem), for example to pin a test
    /// gateway's CA. Verification itself stays on.
    pub fn use_bundled_roots(mut self, enabled: bool) -> Self {
        self.bundled_roots = enabled;
        self
    }

    /// Chooses whether to also trust the operating system's certificate
    /// store, loaded through `rustls-native-certs` when
    /// [`build`](Self::build) runs (default `false`).
    #[cfg(feature = "native-roots")]
    pub fn use_native_roots(mut self, enabled: bool) -> Self {
        self.native_roots = enabled;
        self
    }

    /// Trusts every CA certificate in `pem`, such as a test gateway's CA.
    ///
    /// Other PEM blocks, such as private keys, are skipped.
    ///
    /// # Errors
    ///
    /// [`TransportError::InvalidRootPem`] when `pem` contains no certificate
    /// or a certificate that does not parse.
    pub fn add_root_pem(mut self, pem: &[u8]) -> Result<Self, TransportError> {
        let count = roots::add_pem(
            &mut self.extra_roots,
            pem,
            "PEM data passed to add_root_pem",
        )?;
        log::debug!("added {count} CA certificates from PEM data");
        Ok(self)
    }

    /// Trusts every CA certificate in the PEM file at `path`.
    ///
    /// # Errors
    ///
    /// [`TransportError::ReadRootFile`] when the file cannot be read, and
    /// [`TransportError::InvalidRootPem`] naming the file when it contains
    /// no certificate or one that does not parse.
    pub fn add_root_pem_file(mut self, path: impl AsRef<Path>) -> Result<Self, TransportError> {
        let path = path.as_ref();
        let count = roots::add_pem_file(&mut self.extra_roots, path)?;
        log::debug!("added {count} CA certificates from {}", path.display());
        Ok(self)
    }

    /// Checks the settings and builds the transport.
    ///
    /// # Errors
    ///
    /// - [`TransportError::InvalidTimeout`] when a timeout is zero.
    /// - [`TransportError::NoTrustedRoots`] when no root CA is left to trust.
    /// - [`TransportError::NativeRoots`] when the platform store was
    ///   requested and yielded no certificate.
    /// - [`TransportError::TlsConfig`] when rustls rejects the configuration.
    pub fn build(self) -> Result<StdTransport, TransportError> {
        for (setting, value) in [
            ("connect_timeout", self.connect_timeout),
            ("read_timeout", self.read_timeout),
            ("write_timeout", self.write_timeout),
        ] {
            if value.is_zero() {
                return Err(TransportError::InvalidTimeout { setting });
            }
        }

        let mut store = self.extra_roots;
        if self.bundled_roots {
            roots::add_bundled(&mut store);
        }
        #[cfg(feature = "native-roots")]
        if self.native_roots {
            let count = roots::add_native(&mut store)?;
            log::debug!("added {count} CA certificates from the platform store");
        }
        if store.is_empty() {
            return Err(TransportError::NoTrustedRoots);
        }

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|source| TransportError::TlsConfig { source })?
            .with_root_certificates(store)
            .with_no_client_auth();
        config.alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];

        log::debug!(
            "transport ready: connect timeout {}, read timeout {}, write timeout {}",
            Seconds(self.connect_timeout),
            Seconds(self.read_timeout),
            Seconds(self.write_timeout)
        );
        Ok(StdTransport {
            connect_timeout: self.connect_timeout,
            read_timeout: self.read_timeout,
            write_timeout: self.write_timeout,
            tls: Arc::new(config),
        })
    }
}
