//! HTTP/1.1 on one connection: request heads and bodies in, responses out,
//! with keep-alive, pipelining and the injected faults.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use crate::clock::format_http_date;
use crate::fault::{Fault, SplitMix64, cdn_error_page, reason_phrase};
use crate::gateway::Context;
use crate::server::{ListenerInfo, Shared};
use crate::xml::escape;

/// The gateway's path; every other path gets 404.
pub const GATEWAY_PATH: &str = "/ia/xml/xmlgw.phtml";
/// Headers a request may have; more get 431.
const MAX_HEADERS: usize = 64;
/// Maximum length of a chunk-size or trailer line in a chunked request body,
/// in bytes.
const MAX_CHUNK_LINE: usize = 1024;

/// How a connection ended, which decides whether TLS sends `close_notify`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// Orderly close after a complete response, or the client closed.
    Graceful,
    /// Cut off: an I/O error or an injected fault.
    Abrupt,
}

/// Connection action after a response.
enum Next {
    KeepAlive,
    Close,
    Abort,
}

/// A parsed request head.
struct Head {
    method: String,
    target: String,
    minor_version: u8,
    headers: Vec<(String, Vec<u8>)>,
}

impl Head {
    fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers
            .iter()
            .filter(move |(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_slice())
    }

    /// Tells whether a comma-separated header lists `token` (ASCII case ignored).
    fn has_token(&self, name: &str, token: &str) -> bool {
        self.header_values(name).any(|value| {
            value
                .split(|&byte| byte == b',')
                .any(|part| part.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
        })
    }

    fn wants_keep_alive(&self) -> bool {
        if self.minor_version == 0 {
            self.has_token("connection", "keep-alive")
        } else {
            !self.has_token("connection", "close")
        }
    }

    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
}

enum Framing {
    Length(usize),
    Chunked,
}

enum RequestFailure {
    /// Send this status with an HTML page naming the problem, then close.
    Reject(u16, String),
    /// The connection is unusable (I/O error, early EOF): close it.
    Broken(io::Error),
}

/// A response waiting to be written.
struct Response {
    status: u16,
    content_type: Option<&'static str>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn html(status: u16, message: &str) -> Self {
        let title = format!("{status} {}", reason_phrase(status));
        let body = format!(
            "<!DOCTYPE html>\n<html>\n<head><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n<p>{}</p>\n</body>\n</html>\n",
            escape(message)
        );
        Response {
            status,
            content_type: Some("text/html; charset=UTF-8"),
            headers: Vec::new(),
            body: body.into_bytes(),
        }
    }
}

/// Transfer mode of a response body.
#[derive(Clone, Copy)]
enum Delivery {
    Whole,
    Chunked(u64),
    Truncated,
}

/// A byte stream with the bytes read but not yet consumed.
struct Connection<S> {
    stream: S,
    buffer: Vec<u8>,
    position: usize,
}

impl<S: Read + Write> Connection<S> {
    /// Reads more bytes into the buffer; returns how many (0 at end of stream).
    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 8192];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(count) => {
                    self.buffer
                        .extend_from_slice(chunk.get(..count).unwrap_or_default());
                    return Ok(count);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            }
        }
    }

    fn unread(&self) -> &[u8] {
        self.buffer.get(self.position..).unwrap_or_default()
    }

    /// Drops consumed bytes so the buffer holds only the next request.
    fn compact(&mut self) {
        let position = self.position.min(self.buffer.len());
        self.buffer.drain(..position);
        self.position = 0;
    }

    /// Moves up to `count` unread bytes into `out`, reading more as needed.
    fn take_exact(&mut self, count: usize, out: &mut Vec<u8>) -> Result<(), RequestFailure> {
        while self.unread().len() < count {
            if self.fill().map_err(RequestFailure::Broken)? == 0 {
                return Err(RequestFailure::Broken(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the client closed the connection in the middle of the request body",
                )));
            }
        }
        let end = self.position + count;
        out.extend_from_slice(self.buffer.get(self.position..end).unwrap_or_default());
        self.position = end;
        Ok(())
    }

    /// Reads one CRLF-terminated line (without the CRLF) of at most `max` bytes.
    fn take_line(&mut self, max: usize) -> Result<Vec<u8>, RequestFailure> {
        loop {
            if let Some(offset) = self.unread().windows(2).position(|pair| pair == b"\r\n") {
                let line = self.unread().get(..offset).unwrap_or_default().to_vec();
                self.position += offset + 2;
                return Ok(line);
            }
            if self.unread().len() > max {
                return Err(RequestFailure::Reject(
                    400,
                    format!("A chunk-size or trailer line is longer than {max} bytes."),
                ));
            }
            if self.fill().map_err(RequestFailure::Broken)? == 0 {
                return Err(RequestFailure::Broken(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the client closed the connection in the middle of a chunked body",
                )));
            }
        }
    }
}

/// Serves requests on one connection until it closes.
pub(crate) fn serve<S: Read + Write>(
    stream: S,
    peer: SocketAddr,
    listener: &ListenerInfo,
    shared: &Shared,
) -> Ending {
    let mut connection = Connection {
        stream,
        buffer: Vec::new(),
        position: 0,
    };
    loop {
        if shared.is_stopping() {
            return Ending::Graceful;
        }
        let head = match read_head(&mut connection, shared.limits.max_head_bytes) {
            Ok(Some(head)) => head,
            Ok(None) => return Ending::Graceful,
            Err(RequestFailure::Reject(status, message)) => {
                log::warn!(
                    "{} {peer}: rejected request head with {status}: {message}",
                    listener.scheme
                );
                return reject(&mut connection, shared, status, &message);
            }
            Err(RequestFailure::Broken(error)) => {
                log::debug!(
                    "{} {peer}: connection ended while reading a request head: {error}",
                    listener.scheme
                );
                return Ending::Abrupt;
            }
        };
        shared.requests.fetch_add(1, Ordering::Relaxed);

        let body = match read_body(&mut connection, &head, shared) {
            Ok(body) => body,
            Err(RequestFailure::Reject(status, message)) => {
                log::warn!(
                    "{} {peer}: {} {} rejected with {status}: {message}",
                    listener.scheme,
                    head.method,
                    head.path()
                );
                return reject(&mut connection, shared, status, &message);
            }
            Err(RequestFailure::Broken(error)) => {
                log::debug!(
                    "{} {peer}: connection ended while reading a request body: {error}",
                    listener.scheme
                );
                return Ending::Abrupt;
            }
        };
        connection.compact();

        let keep_alive = head.wants_keep_alive() && !shared.is_stopping();
        let next = route(
            &mut connection,
            &head,
            &body,
            keep_alive,
            peer,
            listener,
            shared,
        );
        match next {
            Next::KeepAlive => continue,
            Next::Close => return Ending::Graceful,
            Next::Abort => return Ending::Abrupt,
        }
    }
}

/// Sends an HTML error page and closes.
fn reject<S: Read + Write>(
    connection: &mut Connection<S>,
    shared: &Shared,
    status: u16,
    message: &str,
) -> Ending {
    let response = Response::html(status, message);
    match write_response(connection, shared, &response, Delivery::Whole, false) {
        Ok(()) => Ending::Graceful,
        Err(_) => Ending::Abrupt,
    }
}

/// Reads and parses a request head. `Ok(None)` means the client closed the
/// connection (or stayed idle past the read timeout) between requests.
fn read_head<S: Read + Write>(
    connection: &mut Connection<S>,
    max_head_bytes: usize,
) -> Result<Option<Head>, RequestFailure> {
    loop {
        if !connection.unread().is_empty() {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut request = httparse::Request::new(&mut headers);
            match request.parse(connection.unread()) {
                Ok(httparse::Status::Complete(length)) => {
                    if length > max_head_bytes {
                        return Err(too_large_head(max_head_bytes));
                    }
                    let head = Head {
                        method: request.method.unwrap_or_default().to_owned(),
                        target: request.path.unwrap_or_default().to_owned(),
                        minor_version: request.version.unwrap_or(1),
                        headers: request
                            .headers
                            .iter()
                            .map(|header| (header.name.to_owned(), header.value.to_vec()))
                            .collect(),
                    };
                    connection.position += length;
                    return Ok(Some(head));
                }
                Ok(httparse::Status::Partial) => {
                    if connection.unread().len() > max_head_bytes {
                        return Err(too_large_head(max_head_bytes));
                    }
                }
                Err(httparse::Error::TooManyHeaders) => {
                    return Err(RequestFailure::Reject(
                        431,
                        format!("The request has more than {MAX_HEADERS} header fields."),
                    ));
                }
                Err(error) => {
                    return Err(RequestFailure::Reject(
                        400,
                        format!("Invalid HTTP request head: {error}."),
                    ));
                }
            }
        }
        match connection.fill() {
            Ok(0) if connection.unread().is_empty() => return Ok(None),
            Ok(0) => {
                return Err(RequestFailure::Broken(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the client closed the connection in the middle of a request head",
                )));
            }
            Ok(_) => {}
            Err(error)
                if connection.unread().is_empty()
                    && matches!(
                        error.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
            {
                return Ok(None);
            }
            Err(error) => return Err(RequestFailure::Broken(error)),
        }
    }
}

fn too_large_head(max_head_bytes: usize) -> RequestFailure {
    RequestFailure::Reject(
        431,
        format!("The request head is larger than {max_head_bytes} bytes."),
    )
}

fn framing(head: &Head) -> Result<Framing, RequestFailure> {
    let has_transfer_encoding = head.header_values("transfer-encoding").next().is_some();
    let lengths: Vec<&[u8]> = head.header_values("content-length").collect();
    if has_transfer_encoding {
        if !lengths.is_empty() {
            return Err(RequestFailure::Reject(
                400,
                String::from(
                    "The request has both Transfer-Encoding and Content-Length; send one.",
                ),
            ));
        }
        let last_coding = head
            .header_values("transfer-encoding")
            .flat_map(|value| value.split(|&byte| byte == b','))
            .map(<[u8]>::trim_ascii)
            .filter(|coding| !coding.is_empty())
            .last()
            .unwrap_or_default();
        if !last_coding.eq_ignore_ascii_case(b"chunked") {
            return Err(RequestFailure::Reject(
                501,
                String::from("Only the chunked transfer coding is supported in requests."),
            ));
        }
        return Ok(Framing::Chunked);
    }
    let Some(first) = lengths.first() else {
        return Ok(Framing::Length(0));
    };
    if lengths.iter().any(|other| other != first) {
        return Err(RequestFailure::Reject(
            400,
            String::from("The request has conflicting Content-Length values."),
        ));
    }
    let text = std::str::from_utf8(first).unwrap_or_default().trim();
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(RequestFailure::Reject(
            400,
            format!("Invalid Content-Length {text:?}."),
        ));
    }
    // A value too large for usize is over any body limit, so saturate.
    Ok(Framing::Length(text.parse().unwrap_or(usize::MAX)))
}

fn read_body<S: Read + Write>(
    connection: &mut Connection<S>,
    head: &Head,
    shared: &Shared,
) -> Result<Vec<u8>, RequestFailure> {
    let max = shared.limits.max_body_bytes;
    let too_large =
        || RequestFailure::Reject(413, format!("The request body is larger than {max} bytes."));
    let framing = framing(head)?;
    if let Framing::Length(length) = framing {
        if length > max {
            return Err(too_large());
        }
    }
    let has_body = !matches!(framing, Framing::Length(0));
    if has_body && head.minor_version >= 1 && head.has_token("expect", "100-continue") {
        connection
            .stream
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .and_then(|()| connection.stream.flush())
            .map_err(RequestFailure::Broken)?;
    }

    let mut body = Vec::new();
    match framing {
        Framing::Length(length) => connection.take_exact(length, &mut body)?,
        Framing::Chunked => loop {
            let line = connection.take_line(MAX_CHUNK_LINE)?;
            let size_text = line
                .split(|&byte| byte == b';')
                .next()
                .unwrap_or_default()
                .trim_ascii();
            let size = std::str::from_utf8(size_text)
                .ok()
                .filter(|text| !text.is_empty() && text.len() <= 16)
                .and_then(|text| usize::from_str_radix(text, 16).ok())
                .ok_or_else(|| {
                    RequestFailure::Reject(
                        400,
                        format!(
                            "Invalid chunk size {:?}.",
                            String::from_utf8_lossy(size_text)
                        ),
                    )
                })?;
            if size == 0 {
                // Trailer fields, then the empty line that ends the body.
                while !connection.take_line(MAX_CHUNK_LINE)?.is_empty() {}
                break;
            }
            if body.len().saturating_add(size) > max {
                return Err(too_large());
            }
            connection.take_exact(size, &mut body)?;
            let mut line_end = Vec::with_capacity(2);
            connection.take_exact(2, &mut line_end)?;
            if line_end != b"\r\n" {
                return Err(RequestFailure::Reject(
                    400,
                    String::from("A chunk is longer than its chunk size."),
                ));
            }
        },
    }
    Ok(body)
}

fn route<S: Read + Write>(
    connection: &mut Connection<S>,
    head: &Head,
    body: &[u8],
    keep_alive: bool,
    peer: SocketAddr,
    listener: &ListenerInfo,
    shared: &Shared,
) -> Next {
    let scheme = listener.scheme;
    if head.path() != GATEWAY_PATH {
        log::info!("{scheme} {peer} {} {} -> 404", head.method, head.path());
        let response = Response::html(404, "The requested URL was not found on this server.");
        return send(connection, shared, &response, Delivery::Whole, keep_alive);
    }
    if head.method != "POST" {
        log::info!("{scheme} {peer} {} {} -> 405", head.method, head.path());
        let mut response = Response::html(405, "The gateway accepts POST requests only.");
        response
            .headers
            .push((String::from("Allow"), String::from("POST")));
        return send(connection, shared, &response, Delivery::Whole, keep_alive);
    }

    shared.record_body(body);
    let fault = shared.take_fault();
    let mut delivery = if shared.default_chunked.load(Ordering::Relaxed) {
        Delivery::Chunked(shared.requests.load(Ordering::Relaxed))
    } else {
        Delivery::Whole
    };
    let mut padding = None;
    match &fault {
        Some(Fault::Close) => {
            log::info!(
                "{scheme} {peer} POST {GATEWAY_PATH} -> closed without a response (injected fault)"
            );
            return Next::Abort;
        }
        Some(Fault::Html(status)) => {
            log::info!(
                "{scheme} {peer} POST {GATEWAY_PATH} -> {status} HTML page (injected fault)"
            );
            let ray_id = format!("{:016x}-SJC", shared.requests.load(Ordering::Relaxed));
            let response = Response {
                status: *status,
                content_type: Some("text/html; charset=UTF-8"),
                headers: vec![
                    (String::from("Server"), String::from("cloudflare")),
                    (String::from("CF-RAY"), ray_id.clone()),
                ],
                body: cdn_error_page(*status, &ray_id).into_bytes(),
            };
            return send(connection, shared, &response, delivery, keep_alive);
        }
        Some(Fault::Empty(status)) => {
            log::info!(
                "{scheme} {peer} POST {GATEWAY_PATH} -> {status} empty body (injected fault)"
            );
            let response = Response {
                status: *status,
                content_type: None,
                headers: Vec::new(),
                body: Vec::new(),
            };
            return send(connection, shared, &response, Delivery::Whole, keep_alive);
        }
        Some(Fault::Delay(duration)) => {
            log::info!(
                "{scheme} {peer} POST {GATEWAY_PATH}: waiting {duration:?} (injected fault)"
            );
            if shared.wait_unless_stopping(*duration) {
                return Next::Abort;
            }
        }
        Some(Fault::Truncated) => delivery = Delivery::Truncated,
        Some(Fault::Chunked { seed }) => delivery = Delivery::Chunked(*seed),
        Some(Fault::OversizedHeaders(bytes)) => padding = Some(*bytes),
        None => {}
    }

    let reply = {
        let context = Context {
            endpoint: &listener.endpoint,
            now: shared.clock.now_unix_seconds(),
            utc_offset_minutes: shared.clock.utc_offset_minutes(),
        };
        shared.gateway().handle(body, &context)
    };
    match &fault {
        Some(fault) => log::info!(
            "{scheme} {peer} POST {GATEWAY_PATH} -> {} {} (delivered with injected fault {fault:?})",
            reply.status,
            reply.summary
        ),
        None => log::info!(
            "{scheme} {peer} POST {GATEWAY_PATH} -> {} {}",
            reply.status,
            reply.summary
        ),
    }
    let mut response = Response {
        status: reply.status,
        content_type: Some("text/xml; charset=UTF-8"),
        headers: Vec::new(),
        body: reply.body.into_bytes(),
    };
    if let Some(bytes) = padding {
        response
            .headers
            .push((String::from("X-Simulator-Padding"), "a".repeat(bytes)));
    }
    send(connection, shared, &response, delivery, keep_alive)
}

fn send<S: Read + Write>(
    connection: &mut Connection<S>,
    shared: &Shared,
    response: &Response,
    delivery: Delivery,
    keep_alive: bool,
) -> Next {
    match write_response(connection, shared, response, delivery, keep_alive) {
        Err(error) => {
            log::debug!("writing a {} response failed: {error}", response.status);
            Next::Abort
        }
        Ok(()) if matches!(delivery, Delivery::Truncated) => Next::Abort,
        Ok(()) if keep_alive => Next::KeepAlive,
        Ok(()) => Next::Close,
    }
}

fn write_response<S: Read + Write>(
    connection: &mut Connection<S>,
    shared: &Shared,
    response: &Response,
    delivery: Delivery,
    keep_alive: bool,
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nDate: {}\r\n",
        response.status,
        reason_phrase(response.status),
        format_http_date(shared.clock.now_unix_seconds())
    );
    if !response
        .headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("server"))
    {
        head.push_str("Server: intacct-simulator\r\n");
    }
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(content_type) = response.content_type {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    match delivery {
        Delivery::Chunked(_) => head.push_str("Transfer-Encoding: chunked\r\n"),
        Delivery::Whole | Delivery::Truncated => {
            head.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
        }
    }
    head.push_str(if keep_alive {
        "Connection: keep-alive\r\n\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });

    let stream = &mut connection.stream;
    match delivery {
        Delivery::Whole => {
            let mut bytes = head.into_bytes();
            bytes.extend_from_slice(&response.body);
            stream.write_all(&bytes)?;
        }
        Delivery::Truncated => {
            stream.write_all(head.as_bytes())?;
            let half = response
                .body
                .get(..response.body.len() / 2)
                .unwrap_or_default();
            stream.write_all(half)?;
        }
        Delivery::Chunked(seed) => {
            stream.write_all(head.as_bytes())?;
            stream.flush()?;
            let mut sizes = SplitMix64::new(seed);
            let mut rest = response.body.as_slice();
            while !rest.is_empty() {
                let size = sizes.next_in_one_to(64).min(rest.len());
                let (chunk, tail) = rest.split_at(size);
                stream.write_all(format!("{size:x}\r\n").as_bytes())?;
                stream.write_all(chunk)?;
                stream.write_all(b"\r\n")?;
                stream.flush()?;
                rest = tail;
            }
            stream.write_all(b"0\r\n\r\n")?;
        }
    }
    stream.flush()
}
