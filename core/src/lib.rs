//! A `no_std`, allocation-free client core for the Sage Intacct XML API's
//! `getAPISession` function.
// NOTE: the crate documentation is written once the modules settle.

#![no_std]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(test)]
extern crate std;

#[macro_use]
mod fmt;

pub mod endpoint;
pub mod http;
mod redact;
pub mod request;
pub mod response;
pub mod time;
pub mod transport;
pub mod xml;
