//! A sans-IO reader for one HTTP/1.x response.

use core::fmt;

use super::HttpError;
use super::chunked::ChunkedDecoder;

/// The number of header fields a response head may have.
///
/// Each interim `1xx` head counts on its own. The parser keeps one
/// [`httparse::Header`] per field on the stack while it parses a head, two
/// slices each: 512 bytes on a 32-bit target. A head with more fields fails
/// with [`HttpError::TooManyHeaders`].
pub const MAX_HEADERS: usize = 32;

/// Length of the internal buffer that takes input while the body buffer is
/// full. Only chunk framing, trailers or the connection close can arrive
/// then, so a few bytes per read suffice.
const SCRATCH_LEN: usize = 32;

/// The outcome of [`ResponseReader::advance`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Progress {
    /// Read more bytes into [`ResponseReader::read_buffer`].
    NeedMore,
    /// The response is complete; [`ResponseReader::response`] returns it.
    Complete,
}

/// The framing that marks the end of the response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BodyFraming {
    /// The status (`1xx`, `204`, `304`) rules out a body.
    Empty,
    /// A `Content-Length` header gives the body length.
    ContentLength(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Neither header is present, so the body ends when the server closes
    /// the connection.
    CloseDelimited,
}

/// A byte range of the head buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: usize,
    end: usize,
}

/// The facts the reader keeps from a parsed head, as offsets into the head
/// buffer so that the buffer stays borrowable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Head {
    /// Length of the head, up to and including the empty line.
    len: usize,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    minor_version: u8,
    status: u16,
    reason: Option<Span>,
    content_type: Option<Span>,
    framing: BodyFraming,
    connection_close: bool,
    connection_keep_alive: bool,
    /// Both `Transfer-Encoding` and `Content-Length` are present.
    /// `Transfer-Encoding` wins, but RFC 9112, section 6.3, states that such
    /// a message may be an attempt at response smuggling. The connection is
    /// therefore not reused.
    length_and_encoding: bool,
    retry_after: Option<u32>,
}

impl Head {
    const EMPTY: Self = Self {
        len: 0,
        minor_version: 1,
        status: 0,
        reason: None,
        content_type: None,
        framing: BodyFraming::Empty,
        connection_close: false,
        connection_keep_alive: false,
        length_and_encoding: false,
        retry_after: None,
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Reading the status line and headers into the head buffer.
    Head,
    /// Reading the body, framed by `head.framing`.
    Body,
    Complete,
    Failed(HttpError),
}

/// The destination of the next read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadTarget {
    /// The free tail of the head buffer.
    Head,
    /// `body_buf[start..end]`, right after the decoded body.
    Body { start: usize, end: usize },
    /// The internal scratch buffer, used while the body buffer is full.
    Scratch,
    /// No more input is needed.
    Nothing,
}

/// The buffer that contains bytes waiting to be decoded into the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Bytes that arrived in the same read as the end of the head.
    HeadBuf,
    /// Raw bytes read into the body buffer, decoded in place.
    BodyBuf,
    Scratch,
}

/// A sans-IO reader for one HTTP/1.x response, built on two caller buffers.
///
/// The head buffer receives the status line and headers, and it keeps the
/// final head intact, so [`Response`] refers into it. The body buffer
/// receives the decoded body: raw chunked input is read into the body buffer
/// and decoded in place, so the body buffer needs room only for the decoded
/// body. The body always starts at the first byte of the body buffer, so
/// after the reader is dropped, `body_buf[..body.len()]` is still the body. Interim `1xx` responses are skipped. The reader does no I/O: the
/// caller loops
///
/// 1. read from the stream into [`ResponseReader::read_buffer`],
/// 2. pass the count to [`ResponseReader::advance`] (0 when the stream
///    ended),
///
/// until `advance` returns [`Progress::Complete`], and then takes the
/// [`Response`]. [`read_response`](super::read_response) is that loop for a
/// blocking [`embedded_io::Read`].
///
/// Reads of any size, down to one byte at a time, give the same response.
/// The exception is bytes after the end of the message: the reader sees only
/// those that arrive in the same read as message bytes, and counts them in
/// [`Response::trailing_bytes`]. Once the head is parsed, a `Content-Length`
/// body is read into a buffer of exactly the remaining length, so those
/// reads never go past the body. Reads of a chunked body may.
pub struct ResponseReader<'h, 'b> {
    head_buf: &'h mut [u8],
    /// Bytes of `head_buf` filled so far. Once the head is parsed, bytes past
    /// `head.len` have been moved to the body or counted as trailing.
    head_len: usize,
    body_buf: &'b mut [u8],
    /// Decoded body bytes at the start of `body_buf`.
    body_len: usize,
    scratch: [u8; SCRATCH_LEN],
    phase: Phase,
    /// The final head; meaningful once `phase` has left `Phase::Head`.
    head: Head,
    chunked: ChunkedDecoder,
    trailing_bytes: usize,
}

impl<'h, 'b> ResponseReader<'h, 'b> {
    /// Creates a reader that parses the head into `head_buf` and decodes the
    /// body into `body_buf`.
    ///
    /// An empty `head_buf` makes every call fail with
    /// [`HttpError::HeadTooLarge`].
    pub fn new(head_buf: &'h mut [u8], body_buf: &'b mut [u8]) -> Self {
        let phase = if head_buf.is_empty() {
            Phase::Failed(HttpError::HeadTooLarge { capacity: 0 })
        } else {
            Phase::Head
        };
        Self {
            head_buf,
            head_len: 0,
            body_buf,
            body_len: 0,
            scratch: [0; SCRATCH_LEN],
            phase,
            head: Head::EMPTY,
            chunked: ChunkedDecoder::new(),
            trailing_bytes: 0,
        }
    }

    /// Returns the buffer that the next bytes from the stream must be read
    /// into.
    ///
    /// While the response is incomplete the buffer is never empty. It is
    /// empty once the response is complete, and the call fails with the
    /// stored error after `advance` has failed.
    pub fn read_buffer(&mut self) -> Result<&mut [u8], HttpError> {
        if let Phase::Failed(error) = self.phase {
            return Err(error);
        }
        let buffer: &mut [u8] = match self.read_target() {
            ReadTarget::Head => self.head_buf.get_mut(self.head_len..).unwrap_or_default(),
            ReadTarget::Body { start, end } => {
                self.body_buf.get_mut(start..end).unwrap_or_default()
            }
            ReadTarget::Scratch => &mut self.scratch,
            ReadTarget::Nothing => &mut [],
        };
        Ok(buffer)
    }

    /// Processes the `n` bytes just read into [`ResponseReader::read_buffer`].
    /// `n == 0` means the stream ended (the server closed the connection).
    ///
    /// After an error the reader stays failed, and every later call returns
    /// the same error, except that [`HttpError::AdvanceOutOfBounds`] leaves
    /// the reader unchanged.
    pub fn advance(&mut self, n: usize) -> Result<Progress, HttpError> {
        match self.phase {
            Phase::Failed(error) => return Err(error),
            Phase::Complete if n == 0 => return Ok(Progress::Complete),
            Phase::Head | Phase::Body | Phase::Complete => {}
        }

        let target = self.read_target();
        let available = self.target_len(target);
        if n > available {
            return Err(HttpError::AdvanceOutOfBounds {
                advanced: n,
                available,
            });
        }

        let result = match target {
            ReadTarget::Head => self.advance_head(n),
            ReadTarget::Body { start, .. } => self.advance_body(Source::BodyBuf, start, n),
            ReadTarget::Scratch => self.advance_body(Source::Scratch, 0, n),
            ReadTarget::Nothing => Ok(Progress::Complete),
        };
        if let Err(error) = result {
            warn!("reading the HTTP response failed: {}", error);
            self.phase = Phase::Failed(error);
        }
        result
    }

    /// Returns the status of the final response once its head has been
    /// read, also when reading its body failed afterwards; `None` before.
    pub fn status(&self) -> Option<u16> {
        (self.head.status != 0).then_some(self.head.status)
    }

    /// Returns whether the response is complete.
    pub fn is_complete(&self) -> bool {
        self.phase == Phase::Complete
    }

    /// Returns the response once [`ResponseReader::advance`] has returned
    /// [`Progress::Complete`], and `None` before.
    pub fn response(&self) -> Option<Response<'_>> {
        if self.phase != Phase::Complete {
            return None;
        }
        let head = self.head_buf.get(..self.head.len).unwrap_or_default();
        Some(Response {
            minor_version: self.head.minor_version,
            status: self.head.status,
            reason: self.head.reason.and_then(|span| span_str(head, span)),
            content_type: self.head.content_type.and_then(|span| span_str(head, span)),
            retry_after: self.head.retry_after,
            framing: self.head.framing,
            body: self.body_buf.get(..self.body_len).unwrap_or_default(),
            keep_alive: self.keep_alive(),
            trailing_bytes: self.trailing_bytes,
            head,
        })
    }

    /// Decides where the next read goes. `read_buffer` and `advance` both
    /// call this, so the bytes `advance` processes are where `read_buffer`
    /// put them.
    fn read_target(&self) -> ReadTarget {
        match self.phase {
            Phase::Head => ReadTarget::Head,
            Phase::Body => match self.head.framing {
                BodyFraming::ContentLength(length) => ReadTarget::Body {
                    start: self.body_len,
                    end: length,
                },
                BodyFraming::Chunked | BodyFraming::CloseDelimited => {
                    if self.body_len < self.body_buf.len() {
                        ReadTarget::Body {
                            start: self.body_len,
                            end: self.body_buf.len(),
                        }
                    } else {
                        ReadTarget::Scratch
                    }
                }
                BodyFraming::Empty => ReadTarget::Nothing,
            },
            Phase::Complete | Phase::Failed(_) => ReadTarget::Nothing,
        }
    }

    fn target_len(&self, target: ReadTarget) -> usize {
        match target {
            ReadTarget::Head => self.head_buf.len().saturating_sub(self.head_len),
            ReadTarget::Body { start, end } => end.saturating_sub(start),
            ReadTarget::Scratch => SCRATCH_LEN,
            ReadTarget::Nothing => 0,
        }
    }

    fn advance_head(&mut self, n: usize) -> Result<Progress, HttpError> {
        let capacity = self.head_buf.len();
        let end = self.head_len.saturating_add(n).min(capacity);
        let new_bytes = self.head_buf.get(self.head_len..end).unwrap_or_default();
        let has_newline = new_bytes.contains(&b'\n');
        self.head_len = end;
        let closed = n == 0;

        // A head ends with a newline, so the parse is only repeated when one
        // arrives, when the buffer is full, or when the stream ended.
        if !closed && !has_newline && self.head_len < capacity {
            return Ok(Progress::NeedMore);
        }

        loop {
            let buffered = self.head_buf.get(..self.head_len).unwrap_or_default();
            let Some(head) = parse_head(buffered)? else {
                if closed {
                    return Err(HttpError::ClosedBeforeHead {
                        received: self.head_len,
                    });
                }
                if self.head_len >= capacity {
                    return Err(HttpError::HeadTooLarge { capacity });
                }
                return Ok(Progress::NeedMore);
            };

            match head.status {
                101 => return Err(HttpError::UnexpectedSwitchingProtocols),
                100..=199 => {
                    debug!("skipped an interim HTTP {} response", head.status);
                    let head_end = head.len.min(self.head_len);
                    self.head_buf.copy_within(head_end..self.head_len, 0);
                    self.head_len -= head_end;
                }
                _ => {
                    self.head = head;
                    self.phase = Phase::Body;
                    let progress = self.start_body()?;
                    if closed && progress == Progress::NeedMore {
                        return self.finish_on_close();
                    }
                    return Ok(progress);
                }
            }
        }
    }

    /// Moves the bytes that followed the head in the head buffer into the
    /// body and reports whether the response is complete.
    fn start_body(&mut self) -> Result<Progress, HttpError> {
        let head = self.head;
        debug!(
            "HTTP/1.{} {} response head of {} bytes",
            head.minor_version, head.status, head.len
        );

        let capacity = self.body_buf.len();
        match head.framing {
            BodyFraming::ContentLength(length) if length > capacity => {
                return Err(HttpError::BodyTooLarge {
                    capacity,
                    needed: Some(length),
                });
            }
            BodyFraming::Chunked => self.chunked = ChunkedDecoder::new(),
            _ => {}
        }

        self.feed(Source::HeadBuf, head.len, self.head_len)?;
        Ok(self.check_complete())
    }

    fn advance_body(
        &mut self,
        source: Source,
        start: usize,
        n: usize,
    ) -> Result<Progress, HttpError> {
        if n == 0 {
            return self.finish_on_close();
        }
        self.feed(source, start, start.saturating_add(n))?;
        Ok(self.check_complete())
    }

    /// Handles the end of the stream while the body is incomplete.
    fn finish_on_close(&mut self) -> Result<Progress, HttpError> {
        match self.head.framing {
            BodyFraming::CloseDelimited | BodyFraming::Empty => {
                self.complete();
                Ok(Progress::Complete)
            }
            BodyFraming::ContentLength(length) => Err(HttpError::ClosedEarly {
                expected: Some(length),
                received: self.body_len,
            }),
            BodyFraming::Chunked => Err(HttpError::ClosedEarly {
                expected: None,
                received: self.body_len,
            }),
        }
    }

    fn check_complete(&mut self) -> Progress {
        let complete = match self.head.framing {
            BodyFraming::Empty => true,
            BodyFraming::ContentLength(length) => self.body_len >= length,
            BodyFraming::Chunked => self.chunked.is_done(),
            BodyFraming::CloseDelimited => false,
        };
        if complete {
            self.complete();
            Progress::Complete
        } else {
            Progress::NeedMore
        }
    }

    fn complete(&mut self) {
        self.phase = Phase::Complete;
        debug!(
            "HTTP {} response complete with {} body bytes",
            self.head.status, self.body_len
        );
        if self.trailing_bytes > 0 {
            warn!(
                "{} bytes followed the HTTP response, so the connection will not be reused",
                self.trailing_bytes
            );
        }
    }

    /// Decodes the bytes `start..end` of `source` into the body. Bytes past
    /// the end of the message are counted in `trailing_bytes`.
    fn feed(&mut self, source: Source, start: usize, end: usize) -> Result<(), HttpError> {
        let mut position = start;
        while position < end {
            let count = match self.head.framing {
                BodyFraming::Empty => break,
                BodyFraming::ContentLength(length) => {
                    let count = length.saturating_sub(self.body_len).min(end - position);
                    if count == 0 {
                        break;
                    }
                    self.move_to_body(source, position, count)?;
                    count
                }
                BodyFraming::CloseDelimited => {
                    let count = end - position;
                    self.move_to_body(source, position, count)?;
                    count
                }
                BodyFraming::Chunked => {
                    if self.chunked.is_done() {
                        break;
                    }
                    let data = self.chunked.data_remaining();
                    if data > 0 {
                        let count = data.min(end - position);
                        self.move_to_body(source, position, count)?;
                        self.chunked.consume_data(count);
                        count
                    } else {
                        let count = self.consume_chunk_framing(source, position, end)?;
                        if count == 0 {
                            break;
                        }
                        count
                    }
                }
            };
            position += count;
        }
        self.trailing_bytes = self.trailing_bytes.saturating_add(end - position);
        Ok(())
    }

    /// Runs the chunk decoder over framing bytes and checks that the chunk
    /// it then expects fits in the body buffer.
    fn consume_chunk_framing(
        &mut self,
        source: Source,
        start: usize,
        end: usize,
    ) -> Result<usize, HttpError> {
        let input = match source {
            Source::HeadBuf => self.head_buf.get(start..end),
            Source::BodyBuf => self.body_buf.get(start..end),
            Source::Scratch => self.scratch.get(start..end),
        };
        let consumed = self.chunked.consume_framing(input.unwrap_or_default())?;

        // Rejecting an oversized chunk at its size line makes the error
        // independent of how the input was split into reads.
        let capacity = self.body_buf.len();
        let chunk = self.chunked.data_remaining();
        if chunk > capacity - self.body_len {
            return Err(HttpError::BodyTooLarge {
                capacity,
                needed: Some(self.body_len.saturating_add(chunk)),
            });
        }
        Ok(consumed)
    }

    /// Appends `count` bytes at `position` of `source` to the decoded body.
    fn move_to_body(
        &mut self,
        source: Source,
        position: usize,
        count: usize,
    ) -> Result<(), HttpError> {
        let capacity = self.body_buf.len();
        let too_large = HttpError::BodyTooLarge {
            capacity,
            needed: None,
        };
        let start = self.body_len;
        let end = start
            .checked_add(count)
            .filter(|&end| end <= capacity)
            .ok_or(too_large)?;
        let source_end = position.saturating_add(count);

        // `read_target` handed out the source ranges, so the lookups below
        // succeed. An out-of-range lookup still fails without a panic.
        match source {
            Source::BodyBuf => {
                // Raw bytes sit at or after the decoded body, so in-place
                // decoding only moves bytes toward the start.
                if source_end > capacity {
                    return Err(too_large);
                }
                self.body_buf.copy_within(position..source_end, start);
            }
            Source::HeadBuf | Source::Scratch => {
                let input = match source {
                    Source::HeadBuf => self.head_buf.get(position..source_end),
                    _ => self.scratch.get(position..source_end),
                };
                let (Some(input), Some(output)) = (input, self.body_buf.get_mut(start..end)) else {
                    return Err(too_large);
                };
                output.copy_from_slice(input);
            }
        }
        self.body_len = end;
        Ok(())
    }

    fn keep_alive(&self) -> bool {
        let head = &self.head;
        let version_allows = if head.minor_version >= 1 {
            !head.connection_close
        } else {
            head.connection_keep_alive && !head.connection_close
        };
        let framing_allows = match head.framing {
            BodyFraming::CloseDelimited => false,
            // RFC 9112, section 6.1: an HTTP/1.0 message with
            // Transfer-Encoding has faulty framing, so close after it.
            BodyFraming::Chunked => head.minor_version >= 1,
            BodyFraming::Empty | BodyFraming::ContentLength(_) => true,
        };
        version_allows && framing_allows && !head.length_and_encoding && self.trailing_bytes == 0
    }
}

impl fmt::Debug for ResponseReader<'_, '_> {
    /// Shows the state and lengths but no buffer contents, because the body
    /// may contain a session id.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseReader")
            .field("phase", &self.phase)
            .field("head_len", &self.head_len)
            .field("head_capacity", &self.head_buf.len())
            .field("body_len", &self.body_len)
            .field("body_capacity", &self.body_buf.len())
            .field("trailing_bytes", &self.trailing_bytes)
            .finish()
    }
}

/// A complete HTTP response, borrowed from the [`ResponseReader`] buffers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Response<'r> {
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// The status code, such as 200 or 401. Never a `1xx` code, because
    /// interim responses are skipped.
    pub status: u16,
    /// The reason phrase, or `None` when it is empty or not UTF-8.
    pub reason: Option<&'r str>,
    /// The first `Content-Type` header value without surrounding whitespace,
    /// or `None` when absent or not UTF-8.
    pub content_type: Option<&'r str>,
    /// The `Retry-After` delay in seconds. `None` when the header is absent,
    /// contains an HTTP date, or the number does not fit in `u32`.
    pub retry_after: Option<u32>,
    /// The framing of the body.
    pub framing: BodyFraming,
    /// The decoded body.
    pub body: &'r [u8],
    /// Whether the connection can carry the next request: HTTP/1.1 without
    /// `Connection: close`, or HTTP/1.0 with `Connection: keep-alive`, and a
    /// body that did not end with the connection close, no
    /// `Content-Length` next to `Transfer-Encoding`, and no trailing bytes.
    pub keep_alive: bool,
    /// Bytes received after the end of the message, which the reader
    /// discarded. Bytes still unread in the stream are not counted.
    pub trailing_bytes: usize,
    /// The raw status line and headers of the final response, up to and
    /// including the empty line.
    pub head: &'r [u8],
}

impl fmt::Debug for Response<'_> {
    /// Shows the body and head lengths but not their contents, because the
    /// body may contain a session id.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("minor_version", &self.minor_version)
            .field("status", &self.status)
            .field("reason", &self.reason)
            .field("content_type", &self.content_type)
            .field("retry_after", &self.retry_after)
            .field("framing", &self.framing)
            .field("body_len", &self.body.len())
            .field("keep_alive", &self.keep_alive)
            .field("trailing_bytes", &self.trailing_bytes)
            .field("head_len", &self.head.len())
            .finish()
    }
}

/// Parses a complete head at the start of `buffer`, or returns `None` when
/// the head is still incomplete.
fn parse_head(buffer: &[u8]) -> Result<Option<Head>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(buffer) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(HttpError::TooManyHeaders { max: MAX_HEADERS });
        }
        Err(error) => {
            return Err(HttpError::MalformedHead {
                reason: parse_error_reason(error),
            });
        }
    };
    let (Some(minor_version), Some(status)) = (response.version, response.code) else {
        return Err(HttpError::MalformedHead {
            reason: "missing HTTP version or status code",
        });
    };

    let mut head = Head {
        len,
        minor_version,
        status,
        reason: response
            .reason
            .filter(|reason| !reason.is_empty())
            .and_then(|reason| span_of(buffer, reason.as_bytes())),
        ..Head::EMPTY
    };
    let mut content_length: Option<usize> = None;
    let mut has_transfer_encoding = false;
    let mut transfer_codings = 0usize;
    let mut only_chunked = true;

    for header in response.headers.iter() {
        let name = header.name;
        let value = header.value.trim_ascii();
        if name.eq_ignore_ascii_case("content-length") {
            let length = parse_content_length(value)?;
            if content_length.is_some_and(|previous| previous != length) {
                return Err(HttpError::ConflictingContentLength);
            }
            content_length = Some(length);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            has_transfer_encoding = true;
            for coding in list_elements(value) {
                transfer_codings += 1;
                only_chunked &= coding.eq_ignore_ascii_case(b"chunked");
            }
        } else if name.eq_ignore_ascii_case("connection") {
            for option in list_elements(value) {
                if option.eq_ignore_ascii_case(b"close") {
                    head.connection_close = true;
                } else if option.eq_ignore_ascii_case(b"keep-alive") {
                    head.connection_keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case("content-type") {
            if head.content_type.is_none() {
                head.content_type = span_of(buffer, value);
            }
        } else if name.eq_ignore_ascii_case("retry-after") {
            head.retry_after = parse_decimal(value).and_then(|seconds| u32::try_from(seconds).ok());
        }
    }

    // `chunked` must be the only coding, because the reader decodes no
    // compression, and applying `chunked` twice is forbidden.
    if has_transfer_encoding && (transfer_codings != 1 || !only_chunked) {
        return Err(HttpError::UnsupportedTransferEncoding);
    }
    head.length_and_encoding = has_transfer_encoding && content_length.is_some();
    head.framing = if matches!(status, 100..=199 | 204 | 304) {
        BodyFraming::Empty
    } else if has_transfer_encoding {
        BodyFraming::Chunked
    } else if let Some(length) = content_length {
        BodyFraming::ContentLength(length)
    } else {
        BodyFraming::CloseDelimited
    };
    Ok(Some(head))
}

/// Parses a `Content-Length` value. A list of equal values, as a proxy may
/// produce from duplicated headers, counts as that value (RFC 9110,
/// section 8.6).
fn parse_content_length(value: &[u8]) -> Result<usize, HttpError> {
    let mut length: Option<usize> = None;
    for element in value.split(|&byte| byte == b',') {
        let element_length = parse_decimal(element.trim_ascii())
            .and_then(|number| usize::try_from(number).ok())
            .ok_or(HttpError::InvalidContentLength)?;
        if length.is_some_and(|previous| previous != element_length) {
            return Err(HttpError::ConflictingContentLength);
        }
        length = Some(element_length);
    }
    length.ok_or(HttpError::InvalidContentLength)
}

/// Parses a nonempty string of ASCII digits, or returns `None` for any other
/// byte or on overflow.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |number, &byte| {
        let digit = byte.checked_sub(b'0').filter(|&digit| digit <= 9)?;
        number.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// Splits a comma-separated header value into trimmed, nonempty elements.
fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&byte| byte == b',')
        .map(<[u8]>::trim_ascii)
        .filter(|element| !element.is_empty())
}

/// Returns where `part`, a subslice of `buffer`, sits in `buffer`.
fn span_of(buffer: &[u8], part: &[u8]) -> Option<Span> {
    let start = (part.as_ptr() as usize).checked_sub(buffer.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    (end <= buffer.len()).then_some(Span { start, end })
}

fn span_str(buffer: &[u8], span: Span) -> Option<&str> {
    let bytes = buffer.get(span.start..span.end)?;
    core::str::from_utf8(bytes).ok()
}

fn parse_error_reason(error: httparse::Error) -> &'static str {
    match error {
        httparse::Error::HeaderName => "invalid header name",
        httparse::Error::HeaderValue => "invalid header value",
        httparse::Error::NewLine => "invalid line ending",
        httparse::Error::Status => "invalid status code",
        httparse::Error::Token => "invalid token",
        httparse::Error::TooManyHeaders => "too many headers",
        httparse::Error::Version => "invalid or unsupported HTTP version",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::string::{String, ToString};
    use std::vec;
    use std::vec::Vec;

    /// An owned copy of a [`Response`], so results of separate runs compare.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Owned {
        minor_version: u8,
        status: u16,
        reason: Option<String>,
        content_type: Option<String>,
        retry_after: Option<u32>,
        framing: BodyFraming,
        body: Vec<u8>,
        keep_alive: bool,
        trailing_bytes: usize,
        head: Vec<u8>,
    }

    impl From<Response<'_>> for Owned {
        fn from(response: Response<'_>) -> Self {
            Self {
                minor_version: response.minor_version,
                status: response.status,
                reason: response.reason.map(ToString::to_string),
                content_type: response.content_type.map(ToString::to_string),
                retry_after: response.retry_after,
                framing: response.framing,
                body: response.body.to_vec(),
                keep_alive: response.keep_alive,
                trailing_bytes: response.trailing_bytes,
                head: response.head.to_vec(),
            }
        }
    }

    /// Feeds `input` to a reader in reads of at most `split` bytes, then
    /// signals the end of the stream if the reader still needs input.
    /// Returns the response and the number of input bytes the reader took.
    fn read_split(
        input: &[u8],
        split: usize,
        head_capacity: usize,
        body_capacity: usize,
    ) -> Result<(Owned, usize), HttpError> {
        let mut head_buf = vec![0u8; head_capacity];
        let mut body_buf = vec![0u8; body_capacity];
        let mut reader = ResponseReader::new(&mut head_buf, &mut body_buf);
        let mut position = 0;
        loop {
            let buffer = reader.read_buffer()?;
            assert!(!buffer.is_empty(), "read buffer is empty before completion");
            let n = split.min(buffer.len()).min(input.len() - position);
            buffer[..n].copy_from_slice(&input[position..position + n]);
            position += n;
            if reader.advance(n)? == Progress::Complete {
                break;
            }
        }
        Ok((Owned::from(reader.response().unwrap()), position))
    }

    fn read_all(input: &[u8]) -> Result<Owned, HttpError> {
        read_split(input, input.len().max(1), 1024, 1024).map(|(owned, _)| owned)
    }

    /// Encodes `body` as chunks of the given sizes, cycling through them.
    fn chunk_encode(body: &[u8], sizes: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = body;
        let mut index = 0;
        while !rest.is_empty() {
            let size = sizes[index % sizes.len()].clamp(1, rest.len());
            index += 1;
            out.extend_from_slice(std::format!("{size:x}\r\n").as_bytes());
            out.extend_from_slice(&rest[..size]);
            out.extend_from_slice(b"\r\n");
            rest = &rest[size..];
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    }

    const CONTENT_LENGTH_RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\n\
        Content-Type: text/xml; charset=utf-8\r\n\
        Content-Length: 27\r\n\
        \r\n\
        <response>ok</response>\n\n\n\n";

    const CHUNKED_RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\n\
        Transfer-Encoding: chunked\r\n\
        Content-Type: application/xml\r\n\
        \r\n\
        A;name=value\r\n\
        <response>\r\n\
        2 ; a=\"b\"\r\n\
        ok\r\n\
        b\r\n\
        </response>\r\n\
        0\r\n\
        X-Trailer: done\r\n\
        \r\n";

    const CLOSE_DELIMITED_RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\n\
        Content-Type: text/xml\r\n\
        \r\n\
        <response>until close</response>";

    const CONTINUE_RESPONSE: &[u8] = b"HTTP/1.1 100 Continue\r\n\
        \r\n\
        HTTP/1.1 103 Early Hints\r\n\
        Link: </style.css>\r\n\
        \r\n\
        HTTP/1.1 200 OK\r\n\
        Transfer-Encoding: CHUNKED\r\n\
        \r\n\
        2C\r\n\
        <response>UPPERCASE HEX CHUNK SIZE!</respons\r\n\
        0001\r\n\
        e\r\n\
        1\r\n\
        >\r\n\
        0\r\n\
        \r\n";

    const HTTP10_RESPONSE: &[u8] = b"HTTP/1.0 200 OK\r\n\
        Connection: Keep-Alive\r\n\
        Content-Length: 4\r\n\
        Retry-After: 120\r\n\
        \r\n\
        abcd";

    const NO_CONTENT_RESPONSE: &[u8] = b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n";

    #[test]
    fn content_length_body() {
        let response = read_all(CONTENT_LENGTH_RESPONSE).unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.minor_version, 1);
        assert_eq!(response.reason.as_deref(), Some("OK"));
        assert_eq!(
            response.content_type.as_deref(),
            Some("text/xml; charset=utf-8")
        );
        assert_eq!(response.framing, BodyFraming::ContentLength(27));
        assert_eq!(response.body, b"<response>ok</response>\n\n\n\n");
        assert!(response.keep_alive);
        assert_eq!(response.trailing_bytes, 0);
        assert_eq!(response.head.len(), CONTENT_LENGTH_RESPONSE.len() - 27);
        assert!(response.head.ends_with(b"\r\n\r\n"));
    }

    #[test]
    fn chunked_body_with_extensions_and_trailers() {
        let response = read_all(CHUNKED_RESPONSE).unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.framing, BodyFraming::Chunked);
        assert_eq!(response.body, b"<response>ok</response>");
        assert_eq!(response.content_type.as_deref(), Some("application/xml"));
        assert!(response.keep_alive);
        assert_eq!(response.trailing_bytes, 0);
    }

    #[test]
    fn chunked_crlf_split_across_reads() {
        let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        let pieces: [&[u8]; 9] = [
            head,
            b"3\r",
            b"\nabc\r",
            b"\n",
            b"2;ext",
            b"=1\r\nde",
            b"\r",
            b"\n0\r\n\r",
            b"\n",
        ];
        let mut head_buf = [0u8; 128];
        let mut body_buf = [0u8; 16];
        let mut reader = ResponseReader::new(&mut head_buf, &mut body_buf);
        let mut last = Progress::NeedMore;
        for piece in pieces {
            let buffer = reader.read_buffer().unwrap();
            buffer[..piece.len()].copy_from_slice(piece);
            last = reader.advance(piece.len()).unwrap();
        }
        assert_eq!(last, Progress::Complete);
        let response = reader.response().unwrap();
        assert_eq!(response.body, b"abcde");
        assert!(response.keep_alive);
    }

    #[test]
    fn close_delimited_body() {
        let response = read_all(CLOSE_DELIMITED_RESPONSE).unwrap();
        assert_eq!(response.framing, BodyFraming::CloseDelimited);
        assert_eq!(response.body, b"<response>until close</response>");
        assert!(
            !response.keep_alive,
            "a close-delimited body ends the connection"
        );
    }

    #[test]
    fn unauthorized_with_xml_body() {
        let body = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response><control>\
            <status>failure</status></control></response>";
        let mut input = std::format!(
            "HTTP/1.1 401 Unauthorized\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        input.extend_from_slice(body);

        let response = read_all(&input).unwrap();
        assert_eq!(response.status, 401);
        assert_eq!(response.reason.as_deref(), Some("Unauthorized"));
        assert_eq!(response.content_type.as_deref(), Some("text/xml"));
        assert_eq!(response.body, body);
        assert!(response.keep_alive);
    }

    #[test]
    fn server_error_with_html() {
        let input = b"HTTP/1.1 503 Service Unavailable\r\n\
            Content-Type: text/html\r\n\
            Retry-After: 30\r\n\
            Connection: close\r\n\
            Transfer-Encoding: chunked\r\n\
            \r\n\
            18\r\n<html>maintenance</html>\r\n0\r\n\r\n";
        let response = read_all(input).unwrap();
        assert_eq!(response.status, 503);
        assert_eq!(response.content_type.as_deref(), Some("text/html"));
        assert_eq!(response.retry_after, Some(30));
        assert_eq!(response.body, b"<html>maintenance</html>");
        assert!(
            !response.keep_alive,
            "Connection: close ends the connection"
        );
    }

    #[test]
    fn interim_responses_skipped() {
        let response = read_all(CONTINUE_RESPONSE).unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(
            response.body,
            b"<response>UPPERCASE HEX CHUNK SIZE!</response>"
        );
        assert!(response.head.starts_with(b"HTTP/1.1 200 OK\r\n"));
        assert!(response.keep_alive);
    }

    #[test]
    fn interim_response_in_its_own_read() {
        let mut head_buf = [0u8; 64];
        let mut body_buf = [0u8; 16];
        let mut reader = ResponseReader::new(&mut head_buf, &mut body_buf);
        let pieces: [&[u8]; 2] = [
            b"HTTP/1.1 100 Continue\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        ];
        let mut progress = Vec::new();
        for piece in pieces {
            let buffer = reader.read_buffer().unwrap();
            buffer[..piece.len()].copy_from_slice(piece);
            progress.push(reader.advance(piece.len()).unwrap());
        }
        assert_eq!(progress, [Progress::NeedMore, Progress::Complete]);
        assert_eq!(reader.response().unwrap().body, b"ok");
    }

    #[test]
    fn switching_protocols_rejected() {
        let input = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n";
        assert_eq!(
            read_all(input),
            Err(HttpError::UnexpectedSwitchingProtocols)
        );
    }

    #[test]
    fn no_content_has_no_body() {
        let (response, consumed) = read_split(NO_CONTENT_RESPONSE, 1024, 128, 16).unwrap();
        assert_eq!(response.framing, BodyFraming::Empty);
        assert!(response.body.is_empty());
        assert!(response.keep_alive);
        assert_eq!(consumed, NO_CONTENT_RESPONSE.len());

        let not_modified = b"HTTP/1.1 304 Not Modified\r\n\r\n";
        let response = read_all(not_modified).unwrap();
        assert_eq!(response.framing, BodyFraming::Empty);
        assert!(response.body.is_empty());
    }

    #[test]
    fn http10_keep_alive_rules() {
        let response = read_all(HTTP10_RESPONSE).unwrap();
        assert_eq!(response.minor_version, 0);
        assert_eq!(response.body, b"abcd");
        assert_eq!(response.retry_after, Some(120));
        assert!(response.keep_alive, "HTTP/1.0 with Connection: keep-alive");

        let plain = read_all(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").unwrap();
        assert!(!plain.keep_alive, "HTTP/1.0 without Connection: keep-alive");

        let chunked = read_all(
            b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        )
        .unwrap();
        assert!(!chunked.keep_alive, "HTTP/1.0 with Transfer-Encoding");
    }

    #[test]
    fn connection_options_parsed() {
        let close =
            read_all(b"HTTP/1.1 200 OK\r\nConnection: upgrade, CLOSE\r\nContent-Length: 0\r\n\r\n")
                .unwrap();
        assert!(!close.keep_alive);

        let both = read_all(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(both.framing, BodyFraming::Chunked, "Transfer-Encoding wins");
        assert_eq!(both.body, b"ok");
        assert!(!both.keep_alive, "Content-Length next to Transfer-Encoding");
    }

    #[test]
    fn retry_after_date_ignored() {
        let response = read_all(
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(response.status, 429);
        assert_eq!(response.retry_after, None);

        let huge =
            read_all(b"HTTP/1.1 503 x\r\nRetry-After: 99999999999\r\nContent-Length: 0\r\n\r\n")
                .unwrap();
        assert_eq!(huge.retry_after, None);
    }

    #[test]
    fn missing_reason_phrase() {
        let response = read_all(b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.reason, None);
    }

    #[test]
    fn trailing_bytes_end_keep_alive() {
        let input = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n";
        let response = read_all(input).unwrap();
        assert_eq!(response.body, b"ok");
        assert_eq!(response.trailing_bytes, 17);
        assert!(!response.keep_alive);

        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nextra";
        let response = read_all(chunked).unwrap();
        assert_eq!(response.body, b"ok");
        assert_eq!(response.trailing_bytes, 5);
        assert!(!response.keep_alive);
    }

    #[test]
    fn content_length_never_reads_past_body() {
        let input = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA";
        // One byte per read ends the head read exactly at the empty line, and
        // then the read buffer is exactly the body length.
        let (response, consumed) = read_split(input, 1, 128, 64).unwrap();
        assert_eq!(response.body, b"ok");
        assert_eq!(response.trailing_bytes, 0);
        assert_eq!(consumed, input.len() - 5);
        assert!(response.keep_alive);
    }

    #[test]
    fn head_too_large() {
        let input = b"HTTP/1.1 200 OK\r\nServer: a-rather-long-server-name\r\n\r\n";
        for split in [1, 7, input.len()] {
            assert_eq!(
                read_split(input, split, 32, 64),
                Err(HttpError::HeadTooLarge { capacity: 32 }),
                "split {split}"
            );
        }
        // The head alone fits exactly.
        let fits = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        let (response, _) = read_split(fits, 1, fits.len(), 0).unwrap();
        assert_eq!(response.status, 200);
    }

    #[test]
    fn empty_head_buffer_fails() {
        let mut body_buf = [0u8; 8];
        let mut reader = ResponseReader::new(&mut [], &mut body_buf);
        assert_eq!(
            reader.read_buffer().err(),
            Some(HttpError::HeadTooLarge { capacity: 0 })
        );
        assert_eq!(
            reader.advance(0),
            Err(HttpError::HeadTooLarge { capacity: 0 })
        );
    }

    #[test]
    fn body_too_large_content_length() {
        let input = b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n123456789";
        assert_eq!(
            read_split(input, 4, 128, 8).map(|(owned, _)| owned),
            Err(HttpError::BodyTooLarge {
                capacity: 8,
                needed: Some(9)
            })
        );
        let (response, _) = read_split(input, 4, 128, 9).unwrap();
        assert_eq!(response.body, b"123456789");
    }

    #[test]
    fn body_too_large_chunked() {
        let input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n12345\r\n4\r\n6789\r\n0\r\n\r\n";
        for split in 1..=input.len() {
            assert_eq!(
                read_split(input, split, 128, 8).map(|(owned, _)| owned),
                Err(HttpError::BodyTooLarge {
                    capacity: 8,
                    needed: Some(9)
                }),
                "split {split}"
            );
            // A body that fills the buffer exactly still completes, with the
            // final framing read through the scratch buffer.
            let (response, _) = read_split(input, split, 128, 9).unwrap();
            assert_eq!(response.body, b"123456789", "split {split}");
        }
    }

    #[test]
    fn body_too_large_close_delimited() {
        let input = b"HTTP/1.1 200 OK\r\n\r\n123456789";
        for split in [1, 3, input.len()] {
            assert_eq!(
                read_split(input, split, 64, 8).map(|(owned, _)| owned),
                Err(HttpError::BodyTooLarge {
                    capacity: 8,
                    needed: None
                }),
                "split {split}"
            );
            let (response, _) = read_split(input, split, 64, 9).unwrap();
            assert_eq!(response.body, b"123456789", "split {split}");
        }
    }

    #[test]
    fn closed_early_counts() {
        let content_length = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n1234";
        for split in [1, 5, content_length.len()] {
            assert_eq!(
                read_split(content_length, split, 128, 64).map(|(owned, _)| owned),
                Err(HttpError::ClosedEarly {
                    expected: Some(10),
                    received: 4
                }),
                "split {split}"
            );
        }

        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n5\r\nde";
        for split in [1, 5, chunked.len()] {
            assert_eq!(
                read_split(chunked, split, 128, 64).map(|(owned, _)| owned),
                Err(HttpError::ClosedEarly {
                    expected: None,
                    received: 5
                }),
                "split {split}"
            );
        }
    }

    #[test]
    fn closed_before_head() {
        assert_eq!(
            read_all(b""),
            Err(HttpError::ClosedBeforeHead { received: 0 })
        );
        assert_eq!(
            read_all(b"HTTP/1.1 200 OK\r\nContent-"),
            Err(HttpError::ClosedBeforeHead { received: 25 })
        );
    }

    #[test]
    fn malformed_chunk_size() {
        let input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n";
        for split in [1, 2, input.len()] {
            assert_eq!(
                read_split(input, split, 128, 64).map(|(owned, _)| owned),
                Err(HttpError::InvalidChunkSize { offset: 8 }),
                "split {split}"
            );
        }

        let missing_crlf = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n";
        assert_eq!(
            read_all(missing_crlf),
            Err(HttpError::MalformedChunk { offset: 6 })
        );
    }

    #[test]
    fn bad_content_length() {
        let invalid: [&[u8]; 6] = [
            b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5,\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        ];
        for input in invalid {
            assert_eq!(
                read_all(input),
                Err(HttpError::InvalidContentLength),
                "{}",
                String::from_utf8_lossy(input)
            );
        }

        let conflicting: [&[u8]; 2] = [
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n",
        ];
        for input in conflicting {
            assert_eq!(
                read_all(input),
                Err(HttpError::ConflictingContentLength),
                "{}",
                String::from_utf8_lossy(input)
            );
        }

        let duplicates = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2, 2\r\n\r\nok";
        assert_eq!(read_all(duplicates).unwrap().body, b"ok");
    }

    #[test]
    fn unsupported_transfer_encoding() {
        let cases: [&[u8]; 4] = [
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\n",
        ];
        for input in cases {
            assert_eq!(
                read_all(input),
                Err(HttpError::UnsupportedTransferEncoding),
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn malformed_head_rejected() {
        let cases: [(&[u8], &str); 4] = [
            (
                b"HTTP/2 200 OK\r\n\r\n",
                "invalid or unsupported HTTP version",
            ),
            (b"HTTP/1.1 2000 OK\r\n\r\n", "invalid status code"),
            (
                b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
                "invalid header name",
            ),
            (
                b"<html>not http</html>\r\n\r\n",
                "invalid or unsupported HTTP version",
            ),
        ];
        for (input, reason) in cases {
            assert_eq!(
                read_all(input),
                Err(HttpError::MalformedHead { reason }),
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn too_many_headers() {
        let mut input = b"HTTP/1.1 200 OK\r\n".to_vec();
        for index in 0..=MAX_HEADERS {
            input.extend_from_slice(std::format!("X-{index}: v\r\n").as_bytes());
        }
        input.extend_from_slice(b"\r\n");
        assert_eq!(
            read_split(&input, 1024, 2048, 16).map(|(owned, _)| owned),
            Err(HttpError::TooManyHeaders { max: MAX_HEADERS })
        );
    }

    #[test]
    fn advance_out_of_bounds() {
        let mut head_buf = [0u8; 8];
        let mut body_buf = [0u8; 8];
        let mut reader = ResponseReader::new(&mut head_buf, &mut body_buf);
        assert_eq!(
            reader.advance(9),
            Err(HttpError::AdvanceOutOfBounds {
                advanced: 9,
                available: 8
            })
        );
        // The reader is still usable.
        assert_eq!(reader.read_buffer().unwrap().len(), 8);
    }

    #[test]
    fn errors_are_sticky() {
        let mut head_buf = [0u8; 64];
        let mut body_buf = [0u8; 8];
        let mut reader = ResponseReader::new(&mut head_buf, &mut body_buf);
        let input = b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n";
        reader.read_buffer().unwrap()[..input.len()].copy_from_slice(input);
        assert_eq!(
            reader.advance(input.len()),
            Err(HttpError::InvalidContentLength)
        );
        assert_eq!(reader.advance(0), Err(HttpError::InvalidContentLength));
        assert_eq!(
            reader.read_buffer().err(),
            Some(HttpError::InvalidContentLength)
        );
        assert!(reader.response().is_none());
    }

    #[test]
    fn response_after_completion_only() {
        let mut head_buf = [0u8; 64];
        let mut body_buf = [0u8; 8];
        let mut reader = ResponseReader::new(&mut head_buf, &mut body_buf);
        assert!(reader.response().is_none());
        let input = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        reader.read_buffer().unwrap()[..input.len()].copy_from_slice(input);
        assert_eq!(reader.advance(input.len()), Ok(Progress::Complete));
        assert!(reader.is_complete());
        assert_eq!(reader.advance(0), Ok(Progress::Complete));
        assert!(reader.read_buffer().unwrap().is_empty());
        assert_eq!(reader.response().unwrap().status, 200);
    }

    #[test]
    fn body_starts_body_buffer() {
        let input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let mut head_buf = [0u8; 64];
        let mut body_buf = [0u8; 32];
        let body_len = {
            let mut reader = ResponseReader::new(&mut head_buf, &mut body_buf);
            for &byte in input.iter() {
                reader.read_buffer().unwrap()[0] = byte;
                reader.advance(1).unwrap();
            }
            reader.response().unwrap().body.len()
        };
        assert_eq!(&body_buf[..body_len], b"abcde");
    }

    #[test]
    fn every_split_size_same_result() {
        let responses: [&[u8]; 7] = [
            CONTENT_LENGTH_RESPONSE,
            CHUNKED_RESPONSE,
            CLOSE_DELIMITED_RESPONSE,
            CONTINUE_RESPONSE,
            HTTP10_RESPONSE,
            NO_CONTENT_RESPONSE,
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\n\
              Transfer-Encoding: chunked\r\n\r\n3\r\n<p>\r\n4;x\r\n</p>\r\n0\r\nA: b\r\n\r\n",
        ];
        for input in responses {
            let (expected, consumed) = read_split(input, input.len(), 256, 64).unwrap();
            assert_eq!(consumed, input.len());
            for split in 1..=input.len() {
                let (actual, consumed) = read_split(input, split, 256, 64).unwrap();
                assert_eq!(
                    actual,
                    expected,
                    "split {split} of {}",
                    String::from_utf8_lossy(input)
                );
                assert_eq!(consumed, input.len(), "split {split}");
            }
        }
    }

    proptest! {
        #[test]
        fn chunked_round_trip(
            body in proptest::collection::vec(any::<u8>(), 0..600),
            chunk_sizes in proptest::collection::vec(1usize..300, 1..8),
            split in 1usize..200,
        ) {
            let mut input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            input.extend_from_slice(&chunk_encode(&body, &chunk_sizes));

            let (response, consumed) = read_split(&input, split, 128, 600).unwrap();
            prop_assert_eq!(&response.body, &body);
            prop_assert_eq!(consumed, input.len());
            prop_assert!(response.keep_alive);
            prop_assert_eq!(response.trailing_bytes, 0);
        }

        #[test]
        fn arbitrary_input_split_independent(
            input in proptest::collection::vec(any::<u8>(), 0..300),
            split in 1usize..64,
        ) {
            let heads: [&[u8]; 4] = [
                b"",
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n",
                b"HTTP/1.1 200 OK\r\n\r\n",
            ];
            for head in heads {
                let mut message = head.to_vec();
                message.extend_from_slice(&input);
                // Bytes past the end of the message are only seen when they
                // share a read with it, so the trailing count and the
                // keep-alive decision that depends on it are left out.
                let normalize = |result: Result<(Owned, usize), HttpError>| {
                    result.map(|(mut owned, _)| {
                        owned.trailing_bytes = 0;
                        owned.keep_alive = false;
                        owned
                    })
                };
                let whole = normalize(read_split(&message, message.len().max(1), 64, 64));
                let pieces = normalize(read_split(&message, split, 64, 64));
                prop_assert_eq!(pieces, whole);
            }
        }
    }
}
