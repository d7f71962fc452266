//! Errors of the blocking client.

use crate::endpoint::EndpointError;
use crate::http::{HttpError, RequestHeadError};
use crate::request::RequestError;
use crate::response::{GatewayError, ResponseError};
use core::fmt;

/// Bytes of a non-XML body kept in an error, for diagnosis.
pub const BODY_START_CAPACITY: usize = 64;

/// The first bytes of a body that was not the expected XML, such as a CDN's
/// HTML error page.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct BodyStart(heapless::Vec<u8, BODY_START_CAPACITY>);

impl BodyStart {
    pub(crate) fn of(body: &[u8]) -> Self {
        let len = body.len().min(BODY_START_CAPACITY);
        let mut bytes = heapless::Vec::new();
        // `len` is within the capacity, so this cannot fail.
        let _ = bytes.extend_from_slice(body.get(..len).unwrap_or_default());
        Self(bytes)
    }

    /// Returns the kept bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for BodyStart {
    /// Shows the bytes as text, with anything not printable ASCII escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(body not kept)");
        }
        for &b in self.0.iter() {
            if b == b' ' || b.is_ascii_graphic() {
                fmt::Write::write_char(f, char::from(b))?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for BodyStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for BodyStart {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=[u8]:a}", self.0.as_slice())
    }
}

/// The role of the endpoint URL that was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EndpointRole {
    /// The URL the caller asked to send to.
    Requested,
    /// The `endpoint` a `getAPISession` response returned.
    Returned,
}

/// The stage of an exchange at which an I/O error happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum IoStage {
    /// Sending the request.
    Write,
    /// Receiving the response.
    Read,
}

/// The failure of a call through the client.
///
/// `E` is the transport's connect error.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ClientError<E> {
    /// The request is invalid; nothing was sent.
    Request(RequestError),
    /// An endpoint URL broke the endpoint rule.
    Endpoint {
        /// Which URL.
        role: EndpointRole,
        /// The reason for the rejection.
        error: EndpointError,
    },
    /// The request head could not be built from the endpoint.
    RequestHead(RequestHeadError),
    /// The transport could not connect, after every attempt.
    Connect(E),
    /// The connection failed while sending or receiving, after every
    /// attempt.
    Io {
        /// Sending or receiving.
        stage: IoStage,
        /// The stream's error kind.
        kind: embedded_io::ErrorKind,
    },
    /// The HTTP response broke a limit or the protocol.
    Http(HttpError),
    /// A non-2xx status without an XML `response` body, such as a CDN's
    /// 502 page, after every attempt for the statuses that are retried.
    HttpStatus {
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        body_start: BodyStart,
    },
    /// A 2xx status with a body that is not an XML `response` document.
    UnexpectedContent {
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        body_start: BodyStart,
    },
    /// The response was malformed, reported a failure, or did not match
    /// the request.
    Response(ResponseError),
}

impl<E> ClientError<E> {
    /// Returns the gateway's error, when the failure is one the gateway
    /// reported.
    pub fn gateway_error(&self) -> Option<&GatewayError> {
        match self {
            Self::Response(ResponseError::Gateway(error)) => Some(error),
            _ => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for ClientError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Request(e) => write!(f, "invalid request: {e}"),
            Self::Endpoint { role, error } => {
                let which = match role {
                    EndpointRole::Requested => "requested endpoint",
                    EndpointRole::Returned => "endpoint returned by the gateway",
                };
                write!(f, "{which} rejected: {error}")
            }
            Self::RequestHead(e) => write!(f, "invalid request head: {e}"),
            Self::Connect(e) => write!(f, "connecting to the gateway failed: {e}"),
            Self::Io { stage, kind } => {
                let during = match stage {
                    IoStage::Write => "sending the request",
                    IoStage::Read => "receiving the response",
                };
                write!(f, "connection failed while {during}: {kind:?}")
            }
            Self::Http(e) => write!(f, "invalid HTTP response: {e}"),
            Self::HttpStatus { status, body_start } => {
                write!(
                    f,
                    "gateway answered HTTP {status} without an XML response; body starts with: {body_start}"
                )
            }
            Self::UnexpectedContent { status, body_start } => write!(
                f,
                "gateway answered HTTP {status} with a body that is not an XML response; body starts with: {body_start}"
            ),
            Self::Response(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for ClientError<E> {}

impl<E> From<RequestError> for ClientError<E> {
    fn from(e: RequestError) -> Self {
        Self::Request(e)
    }
}

impl<E> From<ResponseError> for ClientError<E> {
    fn from(e: ResponseError) -> Self {
        Self::Response(e)
    }
}
