//! HTTP/1.1 for one XML request and its response, without allocation.
//!
//! - [`RequestHead`] writes the head of the `POST` request, with an exact
//!   length known up front, to a slice or an [`embedded_io::Write`].
//! - [`ResponseReader`] is a sans-IO state machine that parses the response
//!   head with `httparse` into a caller buffer and decodes the body
//!   (`Content-Length`, chunked, or ended by the connection close) into a
//!   second caller buffer.
//! - [`read_response`] drives a [`ResponseReader`] from a blocking
//!   [`embedded_io::Read`]. An async driver runs the same loop with an async
//!   read.
//!
//! Every limit is a buffer the caller sizes, plus [`MAX_HEADERS`]; going over
//! one is an error that names the capacity, never a truncation.

mod chunked;
mod error;
mod request;
mod response;

pub use error::{HttpError, ReadError};
pub use request::{BufferTooSmall, RequestHead, RequestHeadError, USER_AGENT};
pub use response::{BodyFraming, MAX_HEADERS, Progress, Response, ResponseReader};

/// Reads from `stream` into `reader` until the response is complete.
///
/// On success, [`ResponseReader::response`] returns the response. A stream
/// error comes back as [`ReadError::Io`] and leaves the state of `reader`
/// as it was before that read, so a caller may call this function again. An
/// HTTP error comes back as [`ReadError::Http`].
pub fn read_response<R: embedded_io::Read>(
    stream: &mut R,
    reader: &mut ResponseReader<'_, '_>,
) -> Result<(), ReadError<R::Error>> {
    loop {
        if reader.is_complete() {
            return Ok(());
        }
        // Never empty here: an incomplete reader always has room for input,
        // and an empty buffer would make `read` return 0 without meaning
        // the end of the stream.
        let buffer = reader.read_buffer()?;
        let n = stream.read(buffer).map_err(ReadError::Io)?;
        trace!("read {} response bytes", n);
        if reader.advance(n)? == Progress::Complete {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_io::ErrorKind;

    /// A stream that returns at most `max_read` bytes per read, then the end
    /// of the stream, or `error` once the data runs out when it is set.
    struct ScriptedStream<'a> {
        data: &'a [u8],
        max_read: usize,
        error: Option<ErrorKind>,
        reads: usize,
    }

    impl embedded_io::ErrorType for ScriptedStream<'_> {
        type Error = ErrorKind;
    }

    impl embedded_io::Read for ScriptedStream<'_> {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
            assert!(!buf.is_empty(), "read_response passed an empty buffer");
            self.reads += 1;
            if self.data.is_empty() {
                if let Some(error) = self.error {
                    return Err(error);
                }
            }
            let n = buf.len().min(self.max_read).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn read_response_chunked() {
        let input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
            4\r\n<ok>\r\n5\r\n</ok>\r\n0\r\n\r\n";
        let mut stream = ScriptedStream {
            data: input,
            max_read: 7,
            error: None,
            reads: 0,
        };
        let mut head_buf = [0u8; 128];
        let mut body_buf = [0u8; 16];
        let mut reader = ResponseReader::new(&mut head_buf, &mut body_buf);
        read_response(&mut stream, &mut reader).unwrap();

        let response = reader.response().unwrap();
        assert_eq!(response.body, b"<ok></ok>");
        assert!(response.keep_alive);
        assert_eq!(stream.reads, input.len().div_ceil(7));
        // A second call on a complete reader reads nothing.
        read_response(&mut stream, &mut reader).unwrap();
        assert_eq!(stream.reads, input.len().div_ceil(7));
    }

    #[test]
    fn read_response_close_delimited() {
        let input = b"HTTP/1.1 200 OK\r\n\r\nbody until close";
        let mut stream = ScriptedStream {
            data: input,
            max_read: 64,
            error: None,
            reads: 0,
        };
        let mut head_buf = [0u8; 64];
        let mut body_buf = [0u8; 64];
        let mut reader = ResponseReader::new(&mut head_buf, &mut body_buf);
        read_response(&mut stream, &mut reader).unwrap();
        let response = reader.response().unwrap();
        assert_eq!(response.body, b"body until close");
        assert!(!response.keep_alive);
    }

    #[test]
    fn read_response_io_error() {
        let mut stream = ScriptedStream {
            data: b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n123",
            max_read: 5,
            error: Some(ErrorKind::TimedOut),
            reads: 0,
        };
        let mut head_buf = [0u8; 64];
        let mut body_buf = [0u8; 64];
        let mut reader = ResponseReader::new(&mut head_buf, &mut body_buf);
        let error = read_response(&mut stream, &mut reader).unwrap_err();
        assert_eq!(error, ReadError::Io(ErrorKind::TimedOut));
        assert!(!reader.is_complete());
    }

    #[test]
    fn read_response_http_error() {
        let mut stream = ScriptedStream {
            data: b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n123",
            max_read: 5,
            error: None,
            reads: 0,
        };
        let mut head_buf = [0u8; 64];
        let mut body_buf = [0u8; 64];
        let mut reader = ResponseReader::new(&mut head_buf, &mut body_buf);
        let error = read_response(&mut stream, &mut reader).unwrap_err();
        assert_eq!(
            error,
            ReadError::Http(HttpError::ClosedEarly {
                expected: Some(10),
                received: 3
            })
        );
    }

    #[test]
    fn error_messages_name_values() {
        use std::string::ToString;

        let cases = [
            (
                HttpError::HeadTooLarge { capacity: 512 }.to_string(),
                "raise the head buffer above 512 bytes",
            ),
            (
                HttpError::BodyTooLarge {
                    capacity: 8,
                    needed: Some(9),
                }
                .to_string(),
                "raise the body buffer to at least 9 bytes",
            ),
            (
                HttpError::ClosedEarly {
                    expected: Some(10),
                    received: 3,
                }
                .to_string(),
                "after 3 of 10 body bytes",
            ),
            (
                HttpError::InvalidChunkSize { offset: 8 }.to_string(),
                "at body offset 8",
            ),
            (
                ReadError::Io(ErrorKind::TimedOut).to_string(),
                "reading the response failed: ",
            ),
        ];
        for (message, expected) in cases {
            assert!(message.contains(expected), "{message:?} lacks {expected:?}");
        }
    }
}
