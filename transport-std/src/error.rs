//! Errors from building a [`StdTransport`](crate::StdTransport) and opening
//! connections.

use core::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use rustls::CertificateError;

/// The failure to build a transport or open a connection.
///
/// Each variant names the host, port, file or setting involved, and its
/// `Display` text ends with what to check next where there is a next step.
#[derive(Debug)]
#[non_exhaustive]
pub enum TransportError {
    /// The host name did not resolve to any address.
    Resolve {
        /// The host name passed to `connect`.
        host: String,
        /// The resolver's error, or `None` when it returned no addresses.
        source: Option<io::Error>,
    },
    /// TCP connect failed for every resolved address.
    Connect {
        /// The host name passed to `connect`.
        host: String,
        /// The TCP port.
        port: u16,
        /// The connect timeout that applied to each attempt.
        timeout: Duration,
        /// One entry per resolved address, in the order they were tried.
        attempts: Vec<ConnectAttempt>,
    },
    /// The socket connected but a socket option could not be set.
    SocketOption {
        /// The host name passed to `connect`.
        host: String,
        /// The TCP port.
        port: u16,
        /// The option that failed, such as `TCP_NODELAY` or `SO_RCVTIMEO`.
        option: &'static str,
        /// The operating system's error.
        source: io::Error,
    },
    /// The host is neither a valid DNS name nor an IP address, so it cannot
    /// be checked against a certificate.
    InvalidServerName {
        /// The host name passed to `connect`.
        host: String,
    },
    /// The TLS handshake failed.
    TlsHandshake {
        /// The host name passed to `connect`.
        host: String,
        /// The TCP port.
        port: u16,
        /// The read timeout that applied while waiting for the server.
        timeout: Duration,
        /// The cause.
        source: HandshakeFailure,
    },
    /// A CA certificate passed to `add_root_pem` or `add_root_pem_file` is
    /// not usable.
    InvalidRootPem {
        /// The file name, or `PEM data passed to add_root_pem`.
        origin: String,
        /// The problem with it.
        reason: String,
    },
    /// A CA file passed to `add_root_pem_file` could not be read.
    ReadRootFile {
        /// The file path.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The bundled roots were turned off and no other CA was added, so no
    /// server certificate could ever be trusted.
    NoTrustedRoots,
    /// A timeout was set to zero, which the socket API rejects.
    InvalidTimeout {
        /// The builder method, such as `read_timeout`.
        setting: &'static str,
    },
    /// The platform certificate store could not be loaded (feature
    /// `native-roots`).
    NativeRoots {
        /// The errors reported by `rustls-native-certs`.
        reason: String,
    },
    /// rustls rejected the client configuration.
    TlsConfig {
        /// The rustls error.
        source: rustls::Error,
    },
}

/// One failed TCP connect attempt.
#[derive(Debug)]
pub struct ConnectAttempt {
    /// The resolved address that was tried.
    pub addr: SocketAddr,
    /// The operating system's error for that address.
    pub error: io::Error,
}

/// The cause of a failed TLS handshake.
#[derive(Debug)]
#[non_exhaustive]
pub enum HandshakeFailure {
    /// rustls rejected the server, for example its certificate, or the server
    /// sent an alert.
    Tls(rustls::Error),
    /// The socket failed, timed out or was closed during the handshake.
    Io(io::Error),
}

impl TransportError {
    /// Returns `true` when the failure is a timeout: a connect attempt or
    /// the TLS handshake took longer than its configured timeout.
    pub fn is_timeout(&self) -> bool {
        match self {
            TransportError::Connect { attempts, .. } => attempts
                .iter()
                .any(|attempt| attempt.error.kind() == io::ErrorKind::TimedOut),
            TransportError::TlsHandshake {
                source: HandshakeFailure::Io(error),
                ..
            } => is_timeout_kind(error.kind()),
            _ => false,
        }
    }

    /// Returns `true` when the server's certificate was rejected.
    pub fn is_certificate_error(&self) -> bool {
        matches!(
            self,
            TransportError::TlsHandshake {
                source: HandshakeFailure::Tls(rustls::Error::InvalidCertificate(_)),
                ..
            }
        )
    }
}

/// Returns `true` for the error kinds a socket timeout produces. On Unix a
/// read or write past `SO_RCVTIMEO`/`SO_SNDTIMEO` fails with `WouldBlock`
/// (EAGAIN), not `TimedOut`.
pub(crate) fn is_timeout_kind(kind: io::ErrorKind) -> bool {
    matches!(kind, io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock)
}

/// Formats a timeout as `10 s` or `250 ms`.
pub(crate) struct Seconds(pub Duration);

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let duration = self.0;
        if duration.subsec_millis() == 0 && duration.as_secs() > 0 {
            write!(f, "{} s", duration.as_secs())
        } else {
            write!(f, "{} ms", duration.as_millis())
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Resolve {
                host,
                source: Some(source),
            } => write!(
                f,
                "failed to resolve host {host}: {source}; check the host name and the DNS configuration"
            ),
            TransportError::Resolve { host, source: None } => write!(
                f,
                "failed to resolve host {host}: the resolver returned no addresses"
            ),
            TransportError::Connect {
                host,
                port,
                timeout,
                attempts,
            } => {
                write!(f, "failed to connect to {host}:{port}: ")?;
                for (index, attempt) in attempts.iter().enumerate() {
                    if index > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{} ", attempt.addr)?;
                    write_connect_error(f, &attempt.error, *timeout)?;
                }
                Ok(())
            }
            TransportError::SocketOption {
                host,
                port,
                option,
                source,
            } => write!(
                f,
                "connected to {host}:{port} but failed to set {option}: {source}"
            ),
            TransportError::InvalidServerName { host } => write!(
                f,
                "cannot start TLS with {host}: it is not a valid DNS name or IP address"
            ),
            TransportError::TlsHandshake {
                host,
                port,
                timeout,
                source,
            } => {
                write!(f, "TLS handshake with {host}:{port} failed: ")?;
                write_handshake_failure(f, host, *timeout, source)
            }
            TransportError::InvalidRootPem { origin, reason } => {
                write!(f, "invalid CA PEM in {origin}: {reason}")
            }
            TransportError::ReadRootFile { path, source } => write!(
                f,
                "failed to read CA PEM file {}: {source}",
                path.display()
            ),
            TransportError::NoTrustedRoots => f.write_str(
                "no trusted root certificates: keep the bundled roots or add a CA with add_root_pem or add_root_pem_file",
            ),
            TransportError::InvalidTimeout { setting } => {
                write!(f, "invalid {setting}: it must be greater than zero")
            }
            TransportError::NativeRoots { reason } => write!(
                f,
                "failed to load the platform certificate store: {reason}"
            ),
            TransportError::TlsConfig { source } => {
                write!(f, "failed to build the TLS client configuration: {source}")
            }
        }
    }
}

fn write_connect_error(
    f: &mut fmt::Formatter<'_>,
    error: &io::Error,
    timeout: Duration,
) -> fmt::Result {
    match error.kind() {
        io::ErrorKind::TimedOut => write!(f, "timed out after {}", Seconds(timeout)),
        io::ErrorKind::ConnectionRefused => {
            f.write_str("connection refused (is the gateway running on that port?)")
        }
        _ => write!(f, "{error}"),
    }
}

fn write_handshake_failure(
    f: &mut fmt::Formatter<'_>,
    host: &str,
    timeout: Duration,
    failure: &HandshakeFailure,
) -> fmt::Result {
    match failure {
        HandshakeFailure::Tls(rustls::Error::InvalidCertificate(error)) => {
            write_certificate_error(f, host, error)
        }
        HandshakeFailure::Tls(rustls::Error::AlertReceived(alert)) => {
            write!(f, "the server sent the TLS alert {alert:?}")
        }
        HandshakeFailure::Tls(error) => write!(f, "{error}"),
        HandshakeFailure::Io(error) if is_timeout_kind(error.kind()) => write!(
            f,
            "timed out after {} waiting for the server (read_timeout)",
            Seconds(timeout)
        ),
        HandshakeFailure::Io(error) if error.kind() == io::ErrorKind::UnexpectedEof => f
            .write_str(
                "the server closed the connection; check that the port speaks TLS and not plain HTTP",
            ),
        HandshakeFailure::Io(error) if error.kind() == io::ErrorKind::ConnectionReset => f
            .write_str(
                "the server reset the connection; check that the port speaks TLS and not plain HTTP",
            ),
        HandshakeFailure::Io(error) => write!(f, "{error}"),
    }
}

fn write_certificate_error(
    f: &mut fmt::Formatter<'_>,
    host: &str,
    error: &CertificateError,
) -> fmt::Result {
    match error {
        CertificateError::UnknownIssuer => f.write_str(
            "certificate not trusted: it does not chain to a trusted root CA; for a test gateway, add its CA with add_root_pem or add_root_pem_file",
        ),
        CertificateError::BadSignature => f.write_str(
            "certificate not trusted: its signature does not verify against the trusted CA of the same name",
        ),
        CertificateError::NotValidForName => {
            write!(f, "certificate is not valid for host {host}")
        }
        CertificateError::NotValidForNameContext { presented, .. } => write!(
            f,
            "certificate is not valid for host {host}; it names {}",
            presented.join(", ")
        ),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            f.write_str("certificate has expired")
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            f.write_str("certificate is not valid yet; check the system clock")
        }
        other => write!(f, "invalid certificate: {other}"),
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TransportError::Resolve {
                source: Some(source),
                ..
            } => Some(source),
            TransportError::Connect { attempts, .. } => attempts
                .last()
                .map(|attempt| &attempt.error as &(dyn std::error::Error + 'static)),
            TransportError::SocketOption { source, .. } => Some(source),
            TransportError::TlsHandshake {
                source: HandshakeFailure::Tls(source),
                ..
            } => Some(source),
            TransportError::TlsHandshake {
                source: HandshakeFailure::Io(source),
                ..
            } => Some(source),
            TransportError::ReadRootFile { source, .. } => Some(source),
            TransportError::TlsConfig { source } => Some(source),
            _ => None,
        }
    }
}
