//! The blocking client: sends one request over a [`Transport`] and reads
//! the response, with retries and connection reuse.
//!
//! The client adds no protocol logic of its own: it drives the request
//! writer, the HTTP head writer and response reader, and the response
//! reader of this crate over a byte stream.
//!
//! Retries: HTTP 502, 503, 504 and 524 without an XML `response` body, a
//! failed connect, a connection that fails while sending or receiving, and
//! a body cut short are retried with exponential backoff, up to
//! [`RetryPolicy::max_attempts`]. Every attempt sends the identical bytes,
//! with the same control ids. Other statuses, HTTP errors and every
//! failure the gateway reports in XML are returned at once.

mod error;

pub use error::{BODY_START_CAPACITY, BodyStart, ClientError, EndpointRole, IoStage};

use crate::call::{self, CallReceipt, CallResult};
use crate::endpoint::{AllowedOrigin, Endpoint};
use crate::http::{self, BodyFraming, HttpError, ReadError, RequestHead, ResponseReader};
use crate::request::{
    Authentication, Control, ControlId, ControlIdSource, Function, GetApiSession, Request, Sender,
    SessionLocation, WriteError,
};
use crate::response::{ParseErrorKind, Response};
use crate::session::{Clock, Session};
use crate::transport::{Security, Target, Transport};
use core::fmt;
use embedded_io::Error as _;

/// Suggested size of the HTTP head buffer. Gateway heads are under 1 KiB;
/// a CDN in front of it can add cookies and tracing headers.
pub const DEFAULT_HEAD_BUFFER: usize = 2048;

/// Suggested size of the body buffer for `getAPISession`. Its responses
/// are about 1.2 KiB with the gateway's indentation; error responses with
/// several long texts can reach 3 KiB.
pub const DEFAULT_BODY_BUFFER: usize = 4096;

/// Maximum host name length kept for connection reuse.
const HOST_CAPACITY: usize = 253;

/// Monotonic time and waiting, for backoff and session lifetimes.
pub trait Timer: Clock {
    /// Blocks for `ms` milliseconds.
    fn delay_ms(&mut self, ms: u32);
}

impl<T: Timer + ?Sized> Timer for &mut T {
    fn delay_ms(&mut self, ms: u32) {
        (**self).delay_ms(ms)
    }
}

/// The settings for retrying failed attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RetryPolicy {
    /// Attempts in all, the first included. `0` counts as `1`.
    pub max_attempts: u8,
    /// Delay before the second attempt, in milliseconds; it doubles for
    /// each attempt after that.
    pub initial_backoff_ms: u32,
    /// Upper bound of the delay, in milliseconds.
    pub max_backoff_ms: u32,
}

impl RetryPolicy {
    /// 4 attempts, waiting 1 s, 2 s and 4 s between them.
    pub const DEFAULT: Self = Self {
        max_attempts: 4,
        initial_backoff_ms: 1000,
        max_backoff_ms: 8000,
    };

    /// No retries.
    pub const NONE: Self = Self {
        max_attempts: 1,
        initial_backoff_ms: 0,
        max_backoff_ms: 0,
    };

    /// Returns the delay after failed attempt number `attempt` (1-based).
    pub fn backoff_ms(&self, attempt: u8) -> u32 {
        let doublings = u32::from(attempt.saturating_sub(1)).min(31);
        self.initial_backoff_ms
            .saturating_mul(1u32 << doublings)
            .min(self.max_backoff_ms)
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The client's settings.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config<'a> {
    /// Web Services sender credentials, sent with every request.
    pub sender: Sender<'a>,
    /// Origins allowed although they break the endpoint rule (`https` on
    /// `intacct.com`); empty for the real gateway.
    pub allowed_origins: &'a [AllowedOrigin<'a>],
    /// Retry policy.
    pub retry: RetryPolicy,
    /// `uniqueid` for every request. Retries resend the same `controlid`,
    /// so with `uniqueid` set the gateway rejects a retry of a request it
    /// did receive as a duplicate. Leave it off unless that is wanted.
    pub unique_id: bool,
}

impl<'a> Config<'a> {
    /// Settings for the real gateway with the default retry policy.
    pub const fn new(sender: Sender<'a>) -> Self {
        Self {
            sender,
            allowed_origins: &[],
            retry: RetryPolicy::DEFAULT,
            unique_id: false,
        }
    }
}

/// The caller's buffers for one exchange. Its `Debug` output shows only
/// their sizes, because they hold requests and responses with secrets.
pub struct Buffers<'b> {
    /// Receives the HTTP status line and headers.
    pub head: &'b mut [u8],
    /// Receives the decoded body; responses borrow from it.
    pub body: &'b mut [u8],
}

impl fmt::Debug for Buffers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Buffers")
            .field("head_len", &self.head.len())
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// A response body received with its HTTP status. Its `Debug` output shows
/// the body's length, not its content.
#[derive(Clone, Copy)]
pub struct Exchange<'b> {
    /// The HTTP status.
    pub status: u16,
    /// The decoded body.
    pub body: &'b [u8],
    /// Attempts made, the successful one included.
    pub attempts: u8,
}

impl fmt::Debug for Exchange<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exchange")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .field("attempts", &self.attempts)
            .finish()
    }
}

struct OpenConnection<C> {
    security: Security,
    host: heapless::String<HOST_CAPACITY>,
    port: u16,
    stream: C,
}

/// A blocking client over a transport.
pub struct Client<'a, T: Transport, M: Timer, I: ControlIdSource> {
    transport: T,
    timer: M,
    control_ids: I,
    config: Config<'a>,
    connection: Option<OpenConnection<T::Connection>>,
}

/// The outcome of one attempt.
enum Attempt<E> {
    /// A complete response; keep or drop the connection as `keep_alive`.
    Done {
        status: u16,
        body_len: usize,
        keep_alive: bool,
        /// The body ended with the connection, so a cut-off body looks
        /// complete to HTTP.
        close_delimited: bool,
    },
    /// A failure worth another attempt.
    Retry(ClientError<E>),
    /// A failure another attempt would repeat.
    Fail(ClientError<E>),
}

impl<'a, T: Transport, M: Timer, I: ControlIdSource> Client<'a, T, M, I> {
    /// Creates a client. No connection is opened until the first call.
    pub fn new(transport: T, timer: M, control_ids: I, config: Config<'a>) -> Self {
        Self {
            transport,
            timer,
            control_ids,
            config,
            connection: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &Config<'a> {
        &self.config
    }

    /// Returns the timer, for callers that share it.
    pub fn timer(&self) -> &M {
        &self.timer
    }

    /// Closes the kept-alive connection, if any.
    pub fn close(&mut self) {
        self.connection = None;
    }

    /// Requests an API session from `endpoint_url`.
    ///
    /// With [`Authentication::Login`] this signs in; with
    /// [`Authentication::Session`] it requests another session (another
    /// entity, or the top level) from an existing one. The endpoint the
    /// gateway returns must pass the endpoint rule, since later calls send
    /// the session id there.
    pub fn get_session(
        &mut self,
        endpoint_url: &str,
        authentication: Authentication<'_>,
        location: SessionLocation<'_>,
        buffers: &mut Buffers<'_>,
    ) -> Result<Session, ClientError<T::Error>> {
        let function = GetApiSession { location };
        let control_id = self.control_ids.next_control_id();
        let function_control_id = self.control_ids.next_control_id();
        let request = self.request(&control_id, &function_control_id, authentication, function);
        let exchange = self.send(endpoint_url, &request, buffers)?;
        let response = check_response(&exchange, &control_id, &function_control_id)?;

        let api = response.api_session()?;
        // The gateway created the session; a malformed timestamp only makes
        // its lifetime unknown.
        let authentication = response.authentication_info_or_unknown_lifetime()?;
        Endpoint::parse(&api.endpoint, self.config.allowed_origins).map_err(|error| {
            ClientError::Endpoint {
                role: EndpointRole::Returned,
                error,
            }
        })?;
        let session = Session::new(api, authentication.as_ref(), Some(self.timer.now_ms()));
        info!(
            "got API session {} for {} after {} attempt(s)",
            session.session_id, session.location, exchange.attempts
        );
        Ok(session)
    }

    /// Calls `function` with the session: sends it with `<sessionid>`
    /// authentication to the session's endpoint, then records the
    /// response's `authentication` element in `session`, which moves its
    /// projected timeout forward.
    ///
    /// A function that fails comes back as a [`CallResult`] with its status
    /// and errors. Control and authentication failures are errors; an
    /// authentication failure means the gateway rejected the session
    /// ([`is_session_rejected`](crate::call::is_session_rejected)).
    pub fn call<'b, F: Function>(
        &mut self,
        session: &mut Session,
        function: F,
        buffers: &'b mut Buffers<'_>,
    ) -> Result<CallResult<'b>, ClientError<T::Error>> {
        let control_id = self.control_ids.next_control_id();
        let function_control_id = self.control_ids.next_control_id();
        let authentication = Authentication::Session(session.session_id.expose());
        let request = self.request(&control_id, &function_control_id, authentication, function);
        let exchange = self.send(&session.endpoint, &request, buffers)?;
        let received_at_ms = self.timer.now_ms();
        let result = call::finish(
            &exchange,
            &control_id,
            &function_control_id,
            session,
            received_at_ms,
        )?;
        debug!(
            "call with session {}: result {} after {} attempt(s)",
            session.session_id, result.status, exchange.attempts
        );
        Ok(result)
    }

    /// [`Client::call`] that leaves the result in the body buffer, to be
    /// read with [`CallResult::reread`].
    pub(crate) fn call_in_place<F: Function>(
        &mut self,
        session: &mut Session,
        function: F,
        buffers: &mut Buffers<'_>,
    ) -> Result<CallReceipt, ClientError<T::Error>> {
        self.call(session, function, buffers)
            .map(|result| result.receipt())
    }

    /// Builds a request with this client's sender and `uniqueid`.
    pub fn request<'r, F: Function>(
        &self,
        control_id: &'r str,
        function_control_id: &'r str,
        authentication: Authentication<'r>,
        function: F,
    ) -> Request<'r, F>
    where
        'a: 'r,
    {
        let mut control = Control::new(self.config.sender, control_id);
        control.unique_id = self.config.unique_id;
        Request {
            control,
            authentication,
            function_control_id,
            function,
        }
    }

    /// Draws a fresh control id from the client's source.
    pub fn next_control_id(&mut self) -> ControlId {
        self.control_ids.next_control_id()
    }

    /// Sends `request` to `endpoint_url` and reads the response into
    /// `buffers`, retrying as the policy allows. The body is returned
    /// whatever its content; [`check_response`] interprets it.
    pub fn send<'b, F: Function>(
        &mut self,
        endpoint_url: &str,
        request: &Request<'_, F>,
        buffers: &'b mut Buffers<'_>,
    ) -> Result<Exchange<'b>, ClientError<T::Error>> {
        let endpoint =
            Endpoint::parse(endpoint_url, self.config.allowed_origins).map_err(|error| {
                ClientError::Endpoint {
                    role: EndpointRole::Requested,
                    error,
                }
            })?;
        let body_len = request.encoded_len()?;
        let head = RequestHead::new(endpoint.target(), endpoint.path(), body_len)
            .map_err(ClientError::RequestHead)?;

        let max_attempts = self.config.retry.max_attempts.max(1);
        let mut attempt: u8 = 1;
        let mut stale_retry_left = true;
        loop {
            let reused = self.connection_matches(&endpoint.target());
            debug!(
                "{} to {}:{}, attempt {} of {}",
                request.function.name(),
                endpoint.host(),
                endpoint.port(),
                attempt,
                max_attempts
            );
            let outcome = self.attempt(&endpoint.target(), &head, request, buffers);
            let error = match outcome {
                Attempt::Done {
                    status,
                    body_len,
                    keep_alive,
                    close_delimited,
                } => {
                    info!(
                        "{} answered HTTP {} ({} body bytes) on attempt {}",
                        endpoint.host(),
                        status,
                        body_len,
                        attempt
                    );
                    if !keep_alive {
                        self.connection = None;
                    }
                    let body = buffers.body.get(..body_len).unwrap_or_default();
                    let parsed = Response::parse(body);
                    let cut_off = close_delimited
                        && matches!(&parsed, Err(e) if e.kind == ParseErrorKind::UnexpectedEnd);
                    if is_retryable_status(status) && parsed.is_err() {
                        ClientError::HttpStatus {
                            status,
                            body_start: BodyStart::of(body),
                        }
                    } else if cut_off {
                        // Only the connection's close ended this body, and
                        // the document inside is unfinished: it was cut off.
                        ClientError::Http(HttpError::ClosedEarly {
                            expected: None,
                            received: body_len,
                        })
                    } else {
                        return Ok(Exchange {
                            status,
                            body: buffers.body.get(..body_len).unwrap_or_default(),
                            attempts: attempt,
                        });
                    }
                }
                Attempt::Fail(error) => {
                    self.connection = None;
                    warn!(
                        "{} failed on attempt {}, not retried",
                        request.function.name(),
                        attempt
                    );
                    return Err(error);
                }
                Attempt::Retry(error) => {
                    self.connection = None;
                    // A kept-alive connection the server has closed fails on
                    // first use; one immediate retry on a new connection
                    // does not count as an attempt.
                    // Plain TCP reports that as the end of the stream before
                    // any response byte; TLS stacks report an I/O error.
                    let stale = reused
                        && matches!(
                            error,
                            ClientError::Io { .. }
                                | ClientError::Http(HttpError::ClosedBeforeHead { received: 0 })
                        );
                    if stale && stale_retry_left {
                        stale_retry_left = false;
                        debug!("kept-alive connection was closed; reconnecting");
                        continue;
                    }
                    error
                }
            };
            if attempt >= max_attempts {
                warn!("giving up after {} attempt(s)", attempt);
                return Err(error);
            }
            let delay = self.config.retry.backoff_ms(attempt);
            warn!("attempt {} failed; retrying in {} ms", attempt, delay);
            self.timer.delay_ms(delay);
            attempt += 1;
        }
    }

    fn connection_matches(&self, target: &Target<'_>) -> bool {
        self.connection.as_ref().is_some_and(|open| {
            open.security == target.security
                && open.port == target.port
                && open.host.eq_ignore_ascii_case(target.host)
        })
    }

    fn attempt<F: Function>(
        &mut self,
        target: &Target<'_>,
        head: &RequestHead<'_>,
        request: &Request<'_, F>,
        buffers: &mut Buffers<'_>,
    ) -> Attempt<T::Error> {
        if !self.connection_matches(target) {
            self.connection = None;
            debug!("connecting to {}:{}", target.host, target.port);
            match self.transport.connect(*target) {
                Ok(stream) => {
                    let mut host = heapless::String::new();
                    // Hosts longer than the capacity are not kept for reuse.
                    if host.push_str(target.host).is_ok() {
                        self.connection = Some(OpenConnection {
                            security: target.security,
                            host,
                            port: target.port,
                            stream,
                        });
                    } else {
                        // Use the stream once without keeping it.
                        return exchange_once(stream, head, request, buffers);
                    }
                }
                Err(error) => {
                    warn!("connecting to {}:{} failed", target.host, target.port);
                    if T::is_transient(&error) {
                        return Attempt::Retry(ClientError::Connect(error));
                    }
                    return Attempt::Fail(ClientError::Connect(error));
                }
            }
        }
        let Some(open) = self.connection.as_mut() else {
            return Attempt::Fail(ClientError::Io {
                stage: IoStage::Write,
                kind: embedded_io::ErrorKind::NotConnected,
            });
        };
        exchange(&mut open.stream, head, request, buffers)
    }
}

/// Runs one exchange on a stream that is not kept.
fn exchange_once<C: embedded_io::Read + embedded_io::Write, E, F: Function>(
    mut stream: C,
    head: &RequestHead<'_>,
    request: &Request<'_, F>,
    buffers: &mut Buffers<'_>,
) -> Attempt<E> {
    match exchange(&mut stream, head, request, buffers) {
        Attempt::Done {
            status,
            body_len,
            close_delimited,
            ..
        } => Attempt::Done {
            status,
            body_len,
            keep_alive: false,
            close_delimited,
        },
        other => other,
    }
}

/// Writes the request and reads the response on an open stream.
fn exchange<C: embedded_io::Read + embedded_io::Write, E, F: Function>(
    stream: &mut C,
    head: &RequestHead<'_>,
    request: &Request<'_, F>,
    buffers: &mut Buffers<'_>,
) -> Attempt<E> {
    let write_failed = |kind| {
        Attempt::Retry(ClientError::Io {
            stage: IoStage::Write,
            kind,
        })
    };
    // The body buffer is free until the response arrives, so the request is
    // staged there and sent with one write: one TCP segment or TLS record
    // burst instead of one per escaped value. A request larger than the
    // buffer is streamed piece by piece instead.
    let head_len = head.encoded_len();
    let staged = match head.write_to_slice(buffers.body) {
        Ok(_) => match request.write_to_slice(buffers.body.get_mut(head_len..).unwrap_or_default())
        {
            Ok(body_len) => Some(head_len + body_len),
            Err(_) => None,
        },
        Err(_) => None,
    };
    let written = match staged {
        Some(len) => {
            let sent = buffers.body.get_mut(..len).unwrap_or_default();
            let result = stream.write_all(sent);
            // The staged request contains passwords. Clear it, because the
            // caller keeps the buffer and the response may not cover it.
            sent.fill(0);
            result.map_err(|error| write_failed(error.kind()))
        }
        None => head
            .write_to(stream)
            .map_err(|error| write_failed(error.kind()))
            .and_then(|()| match request.write_to(stream) {
                Ok(_) => Ok(()),
                Err(WriteError::Io(error)) => Err(write_failed(error.kind())),
                Err(WriteError::Invalid(error)) => Err(Attempt::Fail(ClientError::Request(error))),
            }),
    };
    if let Err(attempt) = written {
        return attempt;
    }
    if let Err(error) = stream.flush() {
        return write_failed(error.kind());
    }

    let mut reader = ResponseReader::new(buffers.head, buffers.body);
    let read = http::read_response(stream, &mut reader);
    if let (Err(_), Some(status)) = (&read, reader.status()) {
        if is_retryable_status(status) {
            // A CDN error page that is too large for the body buffer, or
            // arrives broken, is still a status worth another attempt. Its
            // bytes are not kept: the buffer may hold anything.
            return Attempt::Retry(ClientError::HttpStatus {
                status,
                body_start: BodyStart::default(),
            });
        }
    }
    match read {
        Ok(()) => {}
        Err(ReadError::Io(error)) => {
            return Attempt::Retry(ClientError::Io {
                stage: IoStage::Read,
                kind: error.kind(),
            });
        }
        Err(ReadError::Http(
            error @ (HttpError::ClosedEarly { .. } | HttpError::ClosedBeforeHead { .. }),
        )) => return Attempt::Retry(ClientError::Http(error)),
        Err(ReadError::Http(error)) => return Attempt::Fail(ClientError::Http(error)),
    }
    match reader.response() {
        Some(response) => Attempt::Done {
            status: response.status,
            body_len: response.body.len(),
            keep_alive: response.keep_alive,
            close_delimited: response.framing == BodyFraming::CloseDelimited,
        },
        None => Attempt::Fail(ClientError::Http(HttpError::ClosedBeforeHead {
            received: 0,
        })),
    }
}

fn is_retryable_status(status: u16) -> bool {
    matches!(status, 502 | 503 | 504 | 524)
}

/// Interprets a response body and checks that the echoed control ids match
/// the ones sent.
///
/// A gateway failure at any layer becomes [`ClientError::Response`] with
/// the HTTP status recorded. A body that is not an XML `response` becomes
/// [`ClientError::HttpStatus`] for a non-2xx status and
/// [`ClientError::UnexpectedContent`] for a 2xx one.
pub fn check_response<'b, E>(
    exchange: &Exchange<'b>,
    control_id: &str,
    function_control_id: &str,
) -> Result<Response<'b>, ClientError<E>> {
    let status = exchange.status;
    let success = (200..300).contains(&status);
    let response = match Response::parse(exchange.body) {
        Ok(response) => response,
        Err(error) => {
            let body_start = BodyStart::of(exchange.body);
            return Err(if !success {
                ClientError::HttpStatus { status, body_start }
            } else if looks_like_xml_response(exchange.body) {
                ClientError::Response(error.into())
            } else {
                ClientError::UnexpectedContent { status, body_start }
            });
        }
    };
    // Echoes first: a failure that belongs to another request must not be
    // taken for this one's (a rejected session would be dropped for it).
    response.check_control_ids(control_id, function_control_id)?;
    response.check_status(Some(status))?;
    if !success {
        return Err(ClientError::HttpStatus {
            status,
            body_start: BodyStart::of(exchange.body),
        });
    }
    Ok(response)
}

/// Returns whether a body that failed to parse was meant as a gateway response
/// (an XML declaration or a `response` element first), as opposed to an
/// HTML page or other content.
fn looks_like_xml_response(body: &[u8]) -> bool {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    let body = body.get(start..).unwrap_or_default();
    body.starts_with(b"<?xml") || body.starts_with(b"<response")
}

#[cfg(test)]
mod tests;
