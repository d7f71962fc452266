//! std transport and credential loading for the Sage Intacct
//! `getAPISession` client in `intacct-core`.
//!
//! - [`StdTransport`] implements [`intacct_core::transport::Transport`] with
//!   `std::net` TCP and rustls 0.23 TLS (*ring* provider). Certificate
//!   verification is always on. It trusts the Mozilla root CAs bundled in
//!   `webpki-roots` by default, plus any CA added with
//!   [`StdTransportBuilder::add_root_pem`] or
//!   [`StdTransportBuilder::add_root_pem_file`].
//! - [`Credentials::load`] reads the `INTACCT_*` environment variables and
//!   `~/.intacct/credentials.ini` with the precedence of the official Intacct
//!   SDKs; see the [`credentials`] module.
//!
//! Default timeouts: connect [`DEFAULT_CONNECT_TIMEOUT`] (10 s) per
//! resolved address, read [`DEFAULT_READ_TIMEOUT`] (60 s), write
//! [`DEFAULT_WRITE_TIMEOUT`] (30 s).
//!
//! - [`StdTimer`] is the client's clock and delay, and [`UuidControlIds`]
//!   gives each request a random UUID v4 `controlid`.
//!
//! # Features
//!
//! - `native-roots`: adds `StdTransportBuilder::use_native_roots`, which
//!   also trusts the operating system's certificate store through
//!   `rustls-native-certs`.
//!
//! # Logging
//!
//! Connects and TLS handshakes are logged at `debug` level through the `log`
//! crate, and failed connects at `warn`. Passwords never appear in logs.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod connection;
mod control_id;
pub mod credentials;
mod error;
mod roots;
mod timer;
mod transport;

pub use connection::StdConnection;
pub use control_id::UuidControlIds;
pub use credentials::{Credentials, CredentialsConfig, CredentialsError, MissingReason};
pub use error::{ConnectAttempt, HandshakeFailure, TransportError};
pub use timer::StdTimer;
pub use transport::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, DEFAULT_WRITE_TIMEOUT, StdTransport,
    StdTransportBuilder,
};
