//! An [`intacct_core::transport::Transport`] over the
//! [embedded-nal](https://docs.rs/embedded-nal/0.9) 0.9 traits, with TLS as a
//! pluggable layer.
//!
//! [`NalTransport`] resolves the host with the stack's [`Dns`] (IP literals
//! skip it), opens a socket with its [`TcpClientStack`], and hands the TCP
//! stream to a [`TlsLayer`] when the target is `https`:
//!
//! | layer | for |
//! |---|---|
//! | [`NoTls`] | plain TCP only; `https` targets are rejected |
//! | [`OffloadedTls`] | modems and offload chips whose sockets do TLS themselves |
//! | `EmbeddedTls` (feature `tls`) | TLS 1.3 in software through `embedded-tls`, verified against a configured CA |
//!
//! A [`TlsLayer`] wraps any `embedded_io` byte stream, so firmware whose
//! byte stream is not an embedded-nal socket (a UART bridged to a modem,
//! say) can reuse `EmbeddedTls` and [`Connection`] with a transport of its
//! own.
//!
//! # Example
//!
//! On a desktop, `std-embedded-nal` provides the stack. Against a plain
//! HTTP gateway on loopback (an `http` origin must be allowed explicitly):
//!
//! ```no_run
//! use core::cell::RefCell;
//! use intacct_core::client::{Buffers, Client, Config};
//! use intacct_core::endpoint::AllowedOrigin;
//! use intacct_core::request::{Authentication, Login, Sender, SequentialControlIds, SessionLocation};
//! use intacct_core::transport::Security;
//! use intacct_transport_nal::{NalTransport, NoTls};
//! # #[derive(Clone)] struct MyTimer;
//! # impl intacct_core::session::Clock for MyTimer { fn now_ms(&self) -> u64 { 0 } }
//! # impl intacct_core::client::Timer for MyTimer { fn delay_ms(&mut self, _: u32) {} }
//!
//! let stack = RefCell::new(std_embedded_nal::Stack);
//! let transport = NalTransport::new(&stack, MyTimer, NoTls);
//! let origins = [AllowedOrigin { security: Security::Plain, host: "127.0.0.1", port: 8080 }];
//! let mut config = Config::new(Sender { sender_id: "sender", sender_password: "secret" });
//! config.allowed_origins = &origins;
//! let mut client = Client::new(transport, MyTimer, SequentialControlIds::new("dev-1"), config);
//!
//! let (mut head, mut body) = ([0u8; 2048], [0u8; 4096]);
//! let mut buffers = Buffers { head: &mut head, body: &mut body };
//! let login = Login { user_id: "user", company_id: "COMPANY", password: "secret", location_id: None };
//! let session = client.get_session(
//!     "http://127.0.0.1:8080/ia/xml/xmlgw.phtml",
//!     Authentication::Login(login),
//!     SessionLocation::Current,
//!     &mut buffers,
//! )?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Blocking
//!
//! embedded-nal calls return `WouldBlock` instead of waiting. The transport
//! polls them with the [`Timer`](intacct_core::client::Timer) it is given,
//! waiting [`Timeouts::poll_interval_ms`] between polls, and gives up after
//! [`Timeouts::connect_ms`] (DNS and TCP connect) or [`Timeouts::io_ms`]
//! (one send or receive without progress).
//!
//! # Sharing the stack
//!
//! [`Transport::connect`](intacct_core::transport::Transport::connect)
//! returns a connection that outlives the call, and every send and receive
//! needs the stack, so the transport and its connections share it through
//! a `&RefCell`. Each call borrows it only for its own duration.
//!
//! # Features
//!
//! - `tls`: `EmbeddedTls`, `TlsBuffers` and `TlsStream`, TLS 1.3 through
//!   `embedded-tls` (AES-128-GCM with SHA-256, P-256 key exchange, ECDSA
//!   P-256 certificates).
//! - `defmt`: implements `defmt::Format` for the public types.
//!
//! # Not supported
//!
//! - Async stacks (`embedded-nal-async`).
//! - With `tls`: RSA certificates (embedded-tls verifies them only with an
//!   allocator), certificate validity dates (there is no wall clock), and
//!   server names that are IP addresses (the certificate is matched by DNS
//!   name only).

#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]
#![deny(unsafe_code)]
// `TlsOpenError` carries embedded-tls's error, which is larger than clippy's
// default limit; there is no heap to box it in.
#![allow(clippy::result_large_err)]

mod connection;
mod layer;
#[cfg(feature = "tls")]
mod software_tls;
mod stream;
mod transport;

pub use connection::Connection;
pub use layer::{NoTls, OffloadedTls, TlsLayer, TlsUnavailable};
#[cfg(feature = "tls")]
pub use software_tls::{
    CERTIFICATE_CHAIN_CAPACITY, DEFAULT_READ_BUFFER, DEFAULT_WRITE_BUFFER, EmbeddedTls, TlsBuffers,
    TlsOpenError, TlsStream,
};
pub use stream::{NalStream, Timeouts};
pub use transport::{ConnectError, DnsUnavailable, NalTransport, NoDns, Options};

/// The `embedded-nal` crate whose traits the transport uses, for `nb` and
/// the error traits.
pub use embedded_nal;
pub use embedded_nal::{AddrType, Dns, TcpClientStack};
/// The `embedded-tls` crate this layer is built on, for its `TlsError` and
/// the `CryptoRng` and `RngCore` traits (rand_core 0.6) the random number
/// generator must implement.
#[cfg(feature = "tls")]
pub use embedded_tls;
