//! A `no_std`, allocation-free client core for the Sage Intacct XML API's
//! `getAPISession` function.
//!
//! The crate turns credentials into an API session (the `sessionid`, the
//! `endpoint` it is tied to and the entity `locationid`) over any byte
//! stream a [`transport::Transport`] opens, and keeps track of the session's
//! sliding timeout. It runs on a microcontroller without a heap: every
//! buffer is the caller's or has a documented capacity.
//!
//! # Layers
//!
//! | module | what it does |
//! |---|---|
//! | [`request`] | writes the `request` envelope and `getAPISession`, escaped, with the exact length known first |
//! | [`response`] | reads a response in one pass with `xmlparser` into borrowed values and typed errors |
//! | [`http`] | writes the `POST` head and reads the response (Content-Length, chunked, close-delimited), sans-IO |
//! | [`endpoint`] | parses endpoint URLs and enforces `https` on `intacct.com` |
//! | [`time`] | converts ISO 8601 timestamps with a UTC offset to Unix seconds |
//! | [`session`] | the session value and its projected timeout on a monotonic clock |
//! | [`client`] | the blocking driver: connection reuse, retries with backoff |
//! | [`call`] | functions called with a session (`readByQuery`, or any body written through a checked writer) and their results |
//! | [`data`] | readers for a result's `data` element: records, fields, numbers, borrowed |
//! | [`manager`] | one session kept alive: login, renewal, entity switches, recovery |
//! | [`transport`] | the trait a byte-stream provider implements |
//!
//! # Example
//!
//! Writing a request and reading a response need no network:
//!
//! ```
//! use intacct_core::request::{Authentication, Control, GetApiSession, Login, Request, Sender};
//! use intacct_core::response::{Location, Response};
//!
//! let request = Request {
//!     control: Control::new(
//!         Sender { sender_id: "my-sender", sender_password: "sender-secret" },
//!         "ctl-1",
//!     ),
//!     authentication: Authentication::Login(Login {
//!         user_id: "api-user",
//!         company_id: "MY-COMPANY",
//!         password: "user-secret",
//!         location_id: None,
//!     }),
//!     function_control_id: "fn-1",
//!     function: GetApiSession::entity("EAST"),
//! };
//! let mut buf = [0u8; 1024];
//! let len = request.write_to_slice(&mut buf)?;
//! assert_eq!(len, request.encoded_len()?);
//!
//! let body = br#"<?xml version="1.0" encoding="UTF-8"?>
//! <response>
//!   <control><status>success</status><controlid>ctl-1</controlid></control>
//!   <operation>
//!     <authentication><status>success</status><userid>api-user</userid>
//!       <sessiontimestamp>2026-12-04T12:00:00-08:00</sessiontimestamp>
//!       <sessiontimeout>2026-12-04T12:30:00-08:00</sessiontimeout></authentication>
//!     <result><status>success</status><function>getAPISession</function>
//!       <controlid>fn-1</controlid>
//!       <data><api><sessionid>abc123..</sessionid>
//!         <endpoint>https://api.intacct.com/ia/xml/xmlgw.phtml</endpoint>
//!         <locationid>EAST</locationid></api></data></result>
//!   </operation>
//! </response>"#;
//! let response = Response::parse(body)?;
//! response.check_status(Some(200))?;
//! response.check_control_ids("ctl-1", "fn-1")?;
//! let session = response.api_session()?;
//! assert_eq!(session.location, Location::Entity("EAST".try_into().unwrap()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Over a network, [`client::Client`] does all of this: give it a
//! [`transport::Transport`], a [`client::Timer`] and a
//! [`request::ControlIdSource`], then call [`client::Client::get_session`].
//! The `intacct-transport-std` crate provides all three for desktops.
//!
//! # Session lifecycle
//!
//! [`manager::SessionManager`] keeps one session alive for as long as a
//! device runs:
//!
//! 1. The first call logs in (straight into an entity with
//!    `login/locationid`) and caches the session, its endpoint and level.
//! 2. Each call goes to the session's endpoint with `<sessionid>`. The
//!    gateway's timeout slides on every call, and every response's
//!    `authentication` element moves the projected timeout forward.
//! 3. The remaining lifetime is `sessiontimeout - sessiontimestamp` counted
//!    on a monotonic [`session::Clock`] from when the response arrived, so
//!    no wall clock is needed. Within the renewal margin of the projected
//!    timeout, the manager renews with `<getAPISession/>` under session
//!    authentication. Once the projected timeout has passed, it logs in
//!    again.
//! 4. Entity switches request a session at another level from the current
//!    one. Later logins return to that level.
//! 5. When the gateway rejects the session of a call, the manager logs in
//!    again once and retries the call once. It never retries a failed login,
//!    and without login credentials it returns the gateway's error.
//!
//! Policy defaults ([`manager::RenewalPolicy::DEFAULT`]):
//!
//! | setting | default | meaning |
//! |---|---|---|
//! | `margin_ms` | [`manager::DEFAULT_RENEWAL_MARGIN_MS`] (2 min) | renew once less is left; capped at half the stated session duration |
//! | `unknown_lifetime_interval_ms` | [`manager::DEFAULT_UNKNOWN_LIFETIME_INTERVAL_MS`] (10 min) | renew this long after the last response when none states `sessiontimeout` |
//! | logins per call | 1 | after a rejected session; fixed |
//! | retries per call | 1 | after that login; fixed |
//!
//! # Features
//!
//! - `defmt`: implements `defmt::Format` for the public types and sends the
//!   crate's log messages to `defmt`.
//! - `log`: sends the crate's log messages to the `log` crate. When both are
//!   on, messages go to `log` only.
//!
//! No message and no `Debug`, `Display` or `defmt` output contains a
//! password or a whole session id.
//!
//! # Capacities
//!
//! | value | capacity |
//! |---|---|
//! | `sessionid` | [`response::SESSION_ID_CAPACITY`] bytes |
//! | `endpoint` | [`endpoint::ENDPOINT_CAPACITY`] bytes |
//! | `locationid` | [`response::LOCATION_ID_CAPACITY`] bytes |
//! | `userid`, `companyid` | [`response::USER_ID_CAPACITY`], [`response::COMPANY_ID_CAPACITY`] bytes |
//! | `controlid` | [`request::CONTROL_ID_CAPACITY`] bytes |
//! | error items kept | [`response::MAX_ERRORS`], more are counted |
//! | error texts | [`response::ERROR_TEXT_CAPACITY`] bytes shared by the kept items, cut and flagged beyond; `errorno` [`response::ERRORNO_CAPACITY`] bytes |
//! | element nesting | [`response::MAX_DEPTH`] |
//! | HTTP headers | [`http::MAX_HEADERS`] |
//!
//! A value over its capacity is an error that names the field, except error
//! texts, which are cut and flagged so the error itself is not lost. HTTP
//! heads and bodies go into buffers the caller sizes
//! ([`client::DEFAULT_HEAD_BUFFER`], [`client::DEFAULT_BODY_BUFFER`]).
//!
//! # Not supported
//!
//! - `readByQuery` is the only function other than `getAPISession` with a
//!   type of its own; any other is written with [`call::from_fn`] or an
//!   implementation of [`request::Function`], and its `data` is read with
//!   [`data::Data`]. `readMore` paging is not built in.
//! - Several functions in one request, asynchronous (`policyid`) responses
//!   and `transaction="true"` are not supported.
//! - There is no async driver yet; the client is blocking.
//! - Compressed responses are never asked for and not decoded.
//! - HTTP proxies are not supported; a transport connects directly.

#![no_std]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
// Errors carry the gateway's error texts in fixed-capacity strings, because
// there is no heap to box them in. The capacities in `response` set their
// size.
#![allow(clippy::result_large_err, clippy::large_enum_variant)]

#[cfg(test)]
extern crate std;

#[macro_use]
mod fmt;

// Types of these crates appear in the public API (`heapless::String` in
// capacities, `embedded_io` traits in `Transport`), so callers can name them
// without depending on matching versions themselves.
pub use embedded_io;
pub use heapless;

pub mod call;
pub mod client;
pub mod data;
pub mod endpoint;
pub mod http;
pub mod manager;
mod redact;
pub mod request;
pub mod response;
pub mod session;
pub mod time;
pub mod transport;
pub mod xml;
