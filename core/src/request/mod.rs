//! The request envelope and the `getAPISession` function.
//!
//! A [`Request`] is one XML document with the gateway's element order:
//! `control`, then `operation` holding `authentication` and `content` with a
//! single `function`. Every value is checked against the XML 1.0 character
//! set before a byte is written, and escaped when written.
//!
//! [`Request::encoded_len`] returns the exact byte length, so the HTTP
//! `Content-Length` is known without buffering the body, and writing the same
//! request twice gives identical bytes.

mod control_id;
mod envelope;
mod function;

pub use control_id::{CONTROL_ID_CAPACITY, ControlId, ControlIdSource, SequentialControlIds};
pub use envelope::{Authentication, Control, Login, Request, Sender};
pub use function::{Function, GetApiSession, SessionLocation};

use crate::xml::escape::{BufferTooSmall, InvalidChar};
use core::fmt;

/// The `dtdversion` this crate writes and expects back.
pub const DTD_VERSION: &str = "3.0";

/// The failure to build or write a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RequestError {
    /// A required value is empty. The gateway rejects an empty `senderid`,
    /// `userid` or `sessionid`, and an empty entity `locationid` would turn
    /// an entity request into a top-level one.
    Empty {
        /// The field, in the gateway's terms.
        field: &'static str,
    },
    /// A value contains a character XML 1.0 cannot carry.
    InvalidChar(InvalidChar),
    /// A `controlid` is longer than [`CONTROL_ID_CAPACITY`] bytes.
    ControlIdTooLong {
        /// `controlid` for the request, `function controlid` for the function.
        field: &'static str,
        /// The length given, in bytes.
        len: usize,
    },
    /// The output slice is smaller than the request.
    BufferTooSmall(BufferTooSmall),
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty { field } => write!(f, "{field} is empty; give a non-empty value"),
            Self::InvalidChar(e) => fmt::Display::fmt(e, f),
            Self::ControlIdTooLong { field, len } => write!(
                f,
                "{field} is {len} bytes long; the maximum is {CONTROL_ID_CAPACITY}"
            ),
            Self::BufferTooSmall(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl core::error::Error for RequestError {}

impl From<InvalidChar> for RequestError {
    fn from(e: InvalidChar) -> Self {
        Self::InvalidChar(e)
    }
}

/// The failure to write a request to a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WriteError<E> {
    /// The request is invalid; nothing was written.
    Invalid(RequestError),
    /// The stream failed part-way.
    Io(E),
}

impl<E: fmt::Debug> fmt::Display for WriteError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid(e) => fmt::Display::fmt(e, f),
            Self::Io(e) => write!(f, "writing the request failed: {e:?}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for WriteError<E> {}

/// Checks a required value: non-empty and XML-safe.
pub(crate) fn check_required(field: &'static str, value: &str) -> Result<(), RequestError> {
    if value.is_empty() {
        return Err(RequestError::Empty { field });
    }
    crate::xml::escape::check_chars(field, value)?;
    Ok(())
}

/// Checks a `controlid`: required, XML-safe and within the capacity the
/// response reader compares echoes against.
pub(crate) fn check_control_id(field: &'static str, value: &str) -> Result<(), RequestError> {
    check_required(field, value)?;
    if value.len() > CONTROL_ID_CAPACITY {
        return Err(RequestError::ControlIdTooLong {
            field,
            len: value.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
