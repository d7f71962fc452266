//! The head of the `POST` request that carries one XML document.

use core::fmt;

use crate::transport::{Security, Target};
pub use crate::xml::escape::BufferTooSmall;

/// The `User-Agent` header value sent with every request.
pub const USER_AGENT: &str = concat!("intacct-core/", env!("CARGO_PKG_VERSION"));

/// The largest number of decimal digits a `u64` needs.
const MAX_DECIMAL_DIGITS: usize = 20;

/// The head of an HTTP/1.1 `POST` request with an XML body.
///
/// [`RequestHead::new`] validates the host and path, so a `RequestHead`
/// always encodes to a well-formed head: no value can end a line or start a
/// new header. The encoded head is
///
/// ```text
/// POST {path} HTTP/1.1\r\n
/// Host: {host}[:{port}]\r\n
/// Content-Type: application/xml; charset=utf-8\r\n
/// Content-Length: {content_length}\r\n
/// User-Agent: intacct-core/{version}\r\n
/// Accept-Encoding: identity\r\n
/// Connection: keep-alive\r\n
/// \r\n
/// ```
///
/// An IPv6 literal host is written in brackets, and the port is written only
/// when it is not the default port of the scheme (80 for [`Security::Plain`],
/// 443 for [`Security::Tls`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RequestHead<'a> {
    host: &'a str,
    port: u16,
    security: Security,
    path: &'a str,
    content_length: usize,
}

impl<'a> RequestHead<'a> {
    /// Validates `target.host` and `path` and builds the head of a request
    /// whose body is `content_length` bytes long.
    ///
    /// The host must be a DNS name (ASCII letters, digits, `-`, `.`, `_`,
    /// `~`), an IPv4 address, or an IPv6 address without brackets and
    /// without a zone id. The path must start with `/` and contain only
    /// visible ASCII other than `#`, so percent-encode anything else.
    pub fn new(
        target: Target<'a>,
        path: &'a str,
        content_length: usize,
    ) -> Result<Self, RequestHeadError> {
        validate_host(target.host)?;
        validate_path(path)?;
        Ok(Self {
            host: target.host,
            port: target.port,
            security: target.security,
            path,
            content_length,
        })
    }

    /// Returns the exact number of bytes [`RequestHead::write_to`] writes.
    pub fn encoded_len(&self) -> usize {
        let mut len = 0usize;
        let result: Result<(), core::convert::Infallible> = self.for_each_piece(|piece| {
            len = len.saturating_add(piece.len());
            Ok(())
        });
        match result {
            Ok(()) => len,
            Err(never) => match never {},
        }
    }

    /// Writes the head to `writer`.
    ///
    /// The head goes out in several small `write_all` calls, so wrap an
    /// unbuffered stream (for example a TLS session that sends one record per
    /// write) in a buffer, or use [`RequestHead::write_to_slice`] and send
    /// the slice in one call.
    pub fn write_to<W: embedded_io::Write>(&self, writer: &mut W) -> Result<(), W::Error> {
        self.for_each_piece(|piece| writer.write_all(piece))
    }

    /// Writes the head to the start of `buf` and returns the number of bytes
    /// written.
    ///
    /// Fails without writing anything when `buf` is shorter than
    /// [`RequestHead::encoded_len`].
    pub fn write_to_slice(&self, buf: &mut [u8]) -> Result<usize, BufferTooSmall> {
        let needed = self.encoded_len();
        let capacity = buf.len();
        let Some(mut rest) = buf.get_mut(..needed) else {
            return Err(BufferTooSmall { needed, capacity });
        };

        let result: Result<(), BufferTooSmall> = self.for_each_piece(|piece| {
            if piece.len() > rest.len() {
                return Err(BufferTooSmall { needed, capacity });
            }
            let (head, tail) = core::mem::take(&mut rest).split_at_mut(piece.len());
            head.copy_from_slice(piece);
            rest = tail;
            Ok(())
        });
        result.map(|()| needed)
    }

    /// Calls `emit` with each piece of the encoded head, in order.
    ///
    /// `encoded_len`, `write_to` and `write_to_slice` all go through this
    /// function, so the length they report and the bytes they write agree.
    fn for_each_piece<E>(&self, mut emit: impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
        emit(b"POST ")?;
        emit(self.path.as_bytes())?;
        emit(b" HTTP/1.1\r\nHost: ")?;

        // `new` accepts a colon only in an IPv6 literal.
        let is_ipv6 = self.host.contains(':');
        if is_ipv6 {
            emit(b"[")?;
        }
        emit(self.host.as_bytes())?;
        if is_ipv6 {
            emit(b"]")?;
        }
        if self.port != default_port(self.security) {
            emit(b":")?;
            emit(Decimal::new(u64::from(self.port)).as_bytes())?;
        }

        emit(b"\r\nContent-Type: application/xml; charset=utf-8\r\nContent-Length: ")?;
        emit(Decimal::new(self.content_length as u64).as_bytes())?;
        emit(b"\r\nUser-Agent: ")?;
        emit(USER_AGENT.as_bytes())?;
        emit(b"\r\nAccept-Encoding: identity\r\nConnection: keep-alive\r\n\r\n")
    }
}

/// Returns the port that the scheme for `security` implies.
fn default_port(security: Security) -> u16 {
    match security {
        Security::Plain => 80,
        Security::Tls => 443,
    }
}

fn validate_host(host: &str) -> Result<(), RequestHeadError> {
    if host.is_empty() {
        return Err(RequestHeadError::EmptyHost);
    }

    // Colons only occur in an IPv6 literal, which has at least two, and whose
    // other characters are hex digits and the dots of an embedded IPv4
    // address. A `host:port` string has one colon, which is then rejected, so
    // the port cannot appear twice.
    let is_ipv6 = host.bytes().filter(|&byte| byte == b':').count() >= 2;
    for (position, &byte) in host.as_bytes().iter().enumerate() {
        let allowed = if is_ipv6 {
            byte.is_ascii_hexdigit() || byte == b':' || byte == b'.'
        } else {
            byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
        };
        if !allowed {
            return Err(RequestHeadError::InvalidHostByte { position, byte });
        }
    }
    Ok(())
}

fn validate_path(path: &str) -> Result<(), RequestHeadError> {
    if !path.starts_with('/') {
        return Err(RequestHeadError::PathNotAbsolute);
    }
    for (position, &byte) in path.as_bytes().iter().enumerate() {
        // Visible ASCII only: no space, control byte, DEL or non-ASCII byte
        // can reach the request line, and `#` starts a fragment, which is
        // never sent.
        if !byte.is_ascii_graphic() || byte == b'#' {
            return Err(RequestHeadError::InvalidPathByte { position, byte });
        }
    }
    Ok(())
}

/// The reason [`RequestHead::new`] rejected a host or path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RequestHeadError {
    /// The host is empty.
    EmptyHost,
    /// The host contains `byte` at byte `position`, which is not allowed in a
    /// DNS name or an IP address. This covers CR, LF, space, other control
    /// bytes, brackets, a `:port` suffix and non-ASCII names.
    InvalidHostByte {
        /// Byte offset of the rejected byte in the host.
        position: usize,
        /// The rejected byte.
        byte: u8,
    },
    /// The path does not start with `/`.
    PathNotAbsolute,
    /// The path contains `byte` at byte `position`, which is not visible ASCII
    /// or is `#`.
    InvalidPathByte {
        /// Byte offset of the rejected byte in the path.
        position: usize,
        /// The rejected byte.
        byte: u8,
    },
}

impl fmt::Display for RequestHeadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::EmptyHost => {
                f.write_str("the request host is empty, so set a host name or IP address")
            }
            Self::InvalidHostByte { position, byte } => write!(
                f,
                "the request host contains the invalid byte {byte:#04x} at position {position}, \
                 so pass a DNS name or an IP address without brackets, port or zone id"
            ),
            Self::PathNotAbsolute => {
                f.write_str("the request path does not start with '/', so pass an absolute path")
            }
            Self::InvalidPathByte { position, byte } => write!(
                f,
                "the request path contains the invalid byte {byte:#04x} at position {position}, \
                 so percent-encode it"
            ),
        }
    }
}

impl core::error::Error for RequestHeadError {}

/// The decimal digits of an unsigned integer, formatted without allocation.
struct Decimal {
    digits: [u8; MAX_DECIMAL_DIGITS],
    start: usize,
}

impl Decimal {
    fn new(mut value: u64) -> Self {
        let mut digits = [b'0'; MAX_DECIMAL_DIGITS];
        let mut start = MAX_DECIMAL_DIGITS;
        // Fill from the right. Zero keeps the single digit `0`.
        loop {
            start -= 1;
            if let Some(slot) = digits.get_mut(start) {
                *slot = b'0' + (value % 10) as u8;
            }
            value /= 10;
            if value == 0 || start == 0 {
                break;
            }
        }
        Self { digits, start }
    }

    fn as_bytes(&self) -> &[u8] {
        self.digits.get(self.start..).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::string::String;
    use std::vec::Vec;

    fn target(host: &str, port: u16, security: Security) -> Target<'_> {
        Target {
            host,
            port,
            security,
        }
    }

    fn encode(head: &RequestHead<'_>) -> String {
        let mut out: Vec<u8> = Vec::new();
        let mut writer = VecWriter(&mut out);
        head.write_to(&mut writer).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Collects written bytes, accepting at most 3 bytes per call so that
    /// `write_all` has to loop.
    struct VecWriter<'a>(&'a mut Vec<u8>);

    impl embedded_io::ErrorType for VecWriter<'_> {
        type Error = core::convert::Infallible;
    }

    impl embedded_io::Write for VecWriter<'_> {
        fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
            let n = buf.len().min(3);
            self.0.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }

    #[test]
    fn head_default_tls_port() {
        let head = RequestHead::new(
            target("api.intacct.com", 443, Security::Tls),
            "/ia/xml/xmlgw.phtml",
            1234,
        )
        .unwrap();
        let expected = format!(
            "POST /ia/xml/xmlgw.phtml HTTP/1.1\r\n\
             Host: api.intacct.com\r\n\
             Content-Type: application/xml; charset=utf-8\r\n\
             Content-Length: 1234\r\n\
             User-Agent: intacct-core/{}\r\n\
             Accept-Encoding: identity\r\n\
             Connection: keep-alive\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(encode(&head), expected);
        assert_eq!(head.encoded_len(), expected.len());
    }

    #[test]
    fn head_ports_and_ipv6() {
        let cases: [(&str, u16, Security, &str); 7] = [
            ("127.0.0.1", 80, Security::Plain, "Host: 127.0.0.1\r\n"),
            (
                "127.0.0.1",
                8080,
                Security::Plain,
                "Host: 127.0.0.1:8080\r\n",
            ),
            ("localhost", 443, Security::Plain, "Host: localhost:443\r\n"),
            ("localhost", 80, Security::Tls, "Host: localhost:80\r\n"),
            ("::1", 443, Security::Tls, "Host: [::1]\r\n"),
            ("::1", 65535, Security::Tls, "Host: [::1]:65535\r\n"),
            (
                "fe80::1:2.3.4.5",
                0,
                Security::Plain,
                "Host: [fe80::1:2.3.4.5]:0\r\n",
            ),
        ];
        for (host, port, security, host_line) in cases {
            let head = RequestHead::new(target(host, port, security), "/x", 0).unwrap();
            let text = encode(&head);
            assert!(text.contains(host_line), "{host} {port}: {text:?}");
            assert_eq!(head.encoded_len(), text.len(), "{host} {port}");

            let mut buf = [0u8; 512];
            let written = head.write_to_slice(&mut buf).unwrap();
            assert_eq!(written, text.len(), "{host} {port}");
            assert_eq!(&buf[..written], text.as_bytes(), "{host} {port}");
        }
    }

    #[test]
    fn head_max_content_length() {
        let head = RequestHead::new(target("h", 80, Security::Plain), "/", usize::MAX).unwrap();
        let text = encode(&head);
        assert!(text.contains(&format!("Content-Length: {}\r\n", usize::MAX)));
        assert_eq!(head.encoded_len(), text.len());

        let zero = RequestHead::new(target("h", 80, Security::Plain), "/", 0).unwrap();
        assert!(encode(&zero).contains("Content-Length: 0\r\n"));
    }

    #[test]
    fn write_to_slice_too_small() {
        let head = RequestHead::new(target("::1", 8443, Security::Tls), "/a", 10).unwrap();
        let needed = head.encoded_len();
        let mut buf = std::vec![0xAAu8; needed - 1];
        let error = head.write_to_slice(&mut buf).unwrap_err();
        assert_eq!(
            error,
            BufferTooSmall {
                needed,
                capacity: needed - 1
            }
        );
        assert!(
            buf.iter().all(|&b| b == 0xAA),
            "nothing is written on failure"
        );

        let mut exact = std::vec![0u8; needed];
        assert_eq!(head.write_to_slice(&mut exact), Ok(needed));
        assert_eq!(exact.last(), Some(&b'\n'));
    }

    #[test]
    fn injection_in_host_rejected() {
        let cases: [(&str, usize, u8); 8] = [
            ("a\r\nX-Evil: 1", 1, b'\r'),
            ("a\nb", 1, b'\n'),
            ("a b", 1, b' '),
            ("a\tb", 1, b'\t'),
            ("a\0", 1, 0),
            ("host:443", 4, b':'),
            ("[::1]", 0, b'['),
            ("ex\u{e4}mple", 2, 0xC3),
        ];
        for (host, position, byte) in cases {
            let result = RequestHead::new(target(host, 443, Security::Tls), "/", 0);
            assert_eq!(
                result,
                Err(RequestHeadError::InvalidHostByte { position, byte }),
                "{host:?}"
            );
        }
        assert_eq!(
            RequestHead::new(target("", 443, Security::Tls), "/", 0),
            Err(RequestHeadError::EmptyHost)
        );
    }

    #[test]
    fn injection_in_path_rejected() {
        let cases: [(&str, usize, u8); 6] = [
            ("/a\r\nHost: evil", 2, b'\r'),
            ("/a\n", 2, b'\n'),
            ("/a b", 2, b' '),
            ("/\x7f", 1, 0x7f),
            ("/x#frag", 2, b'#'),
            ("/caf\u{e9}", 4, 0xC3),
        ];
        for (path, position, byte) in cases {
            let result = RequestHead::new(target("h", 443, Security::Tls), path, 0);
            assert_eq!(
                result,
                Err(RequestHeadError::InvalidPathByte { position, byte }),
                "{path:?}"
            );
        }
        for path in ["", "ia/xml", "http://h/"] {
            assert_eq!(
                RequestHead::new(target("h", 443, Security::Tls), path, 0),
                Err(RequestHeadError::PathNotAbsolute),
                "{path:?}"
            );
        }
    }

    #[test]
    fn decimal_formats_edges() {
        for value in [0u64, 7, 10, 99, 100, 65535, u64::MAX] {
            let decimal = Decimal::new(value);
            assert_eq!(decimal.as_bytes(), format!("{value}").as_bytes());
        }
    }

    #[test]
    fn user_agent_has_version() {
        assert_eq!(
            USER_AGENT,
            format!("intacct-core/{}", env!("CARGO_PKG_VERSION"))
        );
    }
}
