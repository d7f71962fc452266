//! A `no_std`, allocation-free client core for the Sage Intacct XML API's
//! `getAPISession` function.
// NOTE: the crate documentation is written once the modules settle.

#![no_std]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
// Errors carry the gateway's error texts in fixed-capacity strings because
// there is no heap to box them in; their size is documented with the
// capacities in `response`.
#![allow(clippy::result_large_err, clippy::large_enum_variant)]

#[cfg(test)]
extern crate std;

#[macro_use]
mod fmt;

pub mod client;
pub mod endpoint;
pub mod http;
mod redact;
pub mod request;
pub mod response;
pub mod session;
pub mod time;
pub mod transport;
pub mod xml;
