//! Errors from reading an HTTP response.

use core::fmt;

/// The reason a [`ResponseReader`](super::ResponseReader) rejected a
/// response.
///
/// Every variant except [`HttpError::AdvanceOutOfBounds`] means that the
/// connection is unusable: close it and, for a retry, open a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum HttpError {
    /// The status line and headers did not fit in the head buffer.
    HeadTooLarge {
        /// Length of the head buffer in bytes.
        capacity: usize,
    },
    /// The decoded body did not fit in the body buffer.
    BodyTooLarge {
        /// Length of the body buffer in bytes.
        capacity: usize,
        /// The smallest body buffer that could have held the body, when it is
        /// known: the `Content-Length`, or for a chunked body the bytes
        /// decoded so far plus the size of the chunk that did not fit.
        needed: Option<usize>,
    },
    /// The connection closed before the status line and headers were
    /// complete. `received == 0` means the server closed the connection
    /// without sending anything, which is how an idle keep-alive connection
    /// ends.
    ClosedBeforeHead {
        /// Bytes of the head received before the close.
        received: usize,
    },
    /// The connection closed before the body was complete.
    ClosedEarly {
        /// The `Content-Length`, or `None` for a chunked body.
        expected: Option<usize>,
        /// Body bytes received (decoded bytes for a chunked body).
        received: usize,
    },
    /// A chunk-size line of a chunked body is not a hexadecimal number, or
    /// the number does not fit in `usize`.
    InvalidChunkSize {
        /// Offset of the rejected byte from the first byte after the head.
        offset: usize,
    },
    /// A chunked body lacks the CRLF after a size line, after chunk data or
    /// after the trailers, or a chunk extension or trailer contains a control
    /// byte.
    MalformedChunk {
        /// Offset of the rejected byte from the first byte after the head.
        offset: usize,
    },
    /// The status line or a header is not valid HTTP/1.x.
    MalformedHead {
        /// The parser's reason for the rejection, such as "invalid header name".
        reason: &'static str,
    },
    /// The head has more header fields than the reader has room for.
    TooManyHeaders {
        /// The number of header fields the reader accepts.
        max: usize,
    },
    /// A `Content-Length` value is not a decimal number that fits in `usize`.
    InvalidContentLength,
    /// The head carries `Content-Length` values that differ.
    ConflictingContentLength,
    /// The `Transfer-Encoding` is something other than a single `chunked`.
    UnsupportedTransferEncoding,
    /// The server responded with `101 Switching Protocols`, although the
    /// request asked for no upgrade.
    UnexpectedSwitchingProtocols,
    /// The caller passed `advance` a count larger than the buffer that
    /// `read_buffer` returned. This is a bug in the caller, not in the
    /// response.
    AdvanceOutOfBounds {
        /// The count passed to `advance`.
        advanced: usize,
        /// The length of the buffer `read_buffer` returned.
        available: usize,
    },
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::HeadTooLarge { capacity } => write!(
                f,
                "the response head does not fit in the {capacity}-byte head buffer, \
                 so raise the head buffer above {capacity} bytes"
            ),
            Self::BodyTooLarge {
                capacity,
                needed: Some(needed),
            } => write!(
                f,
                "the response body needs at least {needed} bytes but the body buffer has \
                 {capacity}, so raise the body buffer to at least {needed} bytes"
            ),
            Self::BodyTooLarge {
                capacity,
                needed: None,
            } => write!(
                f,
                "the response body does not fit in the {capacity}-byte body buffer, \
                 so raise the body buffer above {capacity} bytes"
            ),
            Self::ClosedBeforeHead { received: 0 } => f.write_str(
                "the connection closed before any response arrived, \
                 so retry the request on a new connection",
            ),
            Self::ClosedBeforeHead { received } => write!(
                f,
                "the connection closed after {received} bytes of the response head, \
                 so retry the request on a new connection"
            ),
            Self::ClosedEarly {
                expected: Some(expected),
                received,
            } => write!(
                f,
                "the connection closed after {received} of {expected} body bytes, \
                 so retry the request on a new connection"
            ),
            Self::ClosedEarly {
                expected: None,
                received,
            } => write!(
                f,
                "the connection closed before the last chunk, after {received} body bytes, \
                 so retry the request on a new connection"
            ),
            Self::InvalidChunkSize { offset } => write!(
                f,
                "the chunked response body has an invalid chunk size at body offset {offset}, \
                 so check the server or proxy and retry on a new connection"
            ),
            Self::MalformedChunk { offset } => write!(
                f,
                "the chunked response body is malformed at body offset {offset} \
                 (missing CRLF or a control byte), so check the server or proxy \
                 and retry on a new connection"
            ),
            Self::MalformedHead { reason } => write!(
                f,
                "the response head is not valid HTTP/1.x ({reason}), \
                 so check that the endpoint speaks HTTP/1.1"
            ),
            Self::TooManyHeaders { max } => write!(
                f,
                "the response head has more than {max} header fields, \
                 so raise MAX_HEADERS in the http module or check the server"
            ),
            Self::InvalidContentLength => f.write_str(
                "the response Content-Length is not a decimal number that fits in usize, \
                 so check the server or proxy",
            ),
            Self::ConflictingContentLength => f.write_str(
                "the response has Content-Length values that differ, \
                 so check the server or proxy, because the body length is unknown",
            ),
            Self::UnsupportedTransferEncoding => f.write_str(
                "the response Transfer-Encoding is not a single 'chunked', \
                 so configure the server to send chunked or Content-Length framing",
            ),
            Self::UnexpectedSwitchingProtocols => f.write_str(
                "the server switched protocols (101) although the request asked for no upgrade, \
                 so check that the endpoint is an HTTP/1.1 gateway",
            ),
            Self::AdvanceOutOfBounds {
                advanced,
                available,
            } => write!(
                f,
                "advance was called with {advanced} bytes but the read buffer had {available}, \
                 so pass the count that read returned for that buffer"
            ),
        }
    }
}

impl core::error::Error for HttpError {}

/// The reason [`read_response`](super::read_response) failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ReadError<E> {
    /// Reading from the stream failed.
    Io(E),
    /// The bytes read are not an acceptable HTTP response.
    Http(HttpError),
}

impl<E> From<HttpError> for ReadError<E> {
    fn from(error: HttpError) -> Self {
        Self::Http(error)
    }
}

impl<E: fmt::Display> fmt::Display for ReadError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(error) => write!(f, "reading the response failed: {error}"),
            Self::Http(error) => fmt::Display::fmt(error, f),
        }
    }
}

// `Display` already includes the inner error, so `source` stays `None` and
// error reports do not print it twice.
impl<E: core::error::Error> core::error::Error for ReadError<E> {}
