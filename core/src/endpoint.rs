//! Gateway endpoint URLs and the rule for which hosts may receive
//! credentials.
//!
//! The gateway returns the endpoint a session is tied to, and later calls go
//! there with the session id. A client that followed any URL would hand the
//! session to anyone who can alter a response, so an endpoint must be `https`
//! on `intacct.com` or one of its subdomains. A local test gateway is
//! reachable only through an [`AllowedOrigin`] the caller lists explicitly.

use crate::transport::{Security, Target};
use core::fmt;

/// The gateway URL that `getAPISession` is sent to first.
pub const DEFAULT_ENDPOINT: &str = "https://api.intacct.com/ia/xml/xmlgw.phtml";

/// Maximum length of an endpoint URL in bytes.
pub const ENDPOINT_CAPACITY: usize = 256;

/// An owned endpoint URL.
pub type EndpointUrl = heapless::String<ENDPOINT_CAPACITY>;

/// A scheme, host and port that may be used although it breaks the
/// `https` + `intacct.com` rule, such as a simulator on loopback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AllowedOrigin<'a> {
    /// `Plain` for `http`, `Tls` for `https`.
    pub security: Security,
    /// Host name or IP literal (IPv6 without brackets), compared
    /// case-insensitively.
    pub host: &'a str,
    /// Port, compared exactly (the scheme's default when the URL has none).
    pub port: u16,
}

impl<'a> AllowedOrigin<'a> {
    /// Reads the origin (scheme, host and port) of `url`, such as a test
    /// gateway's `http://127.0.0.1:8080/ia/xml/xmlgw.phtml`, to allow it. The
    /// URL must be well formed; the host rule does not apply.
    pub fn from_url(url: &'a str) -> Result<Self, EndpointError> {
        let endpoint = Endpoint::parse_syntax(url)?;
        Ok(Self {
            security: endpoint.security,
            host: endpoint.host,
            port: endpoint.port,
        })
    }
}

/// A parsed, checked endpoint URL borrowing from its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Endpoint<'a> {
    url: &'a str,
    security: Security,
    host: &'a str,
    port: u16,
    explicit_port: bool,
    path: &'a str,
}

/// The reason an endpoint URL was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EndpointError {
    /// The URL is longer than [`ENDPOINT_CAPACITY`].
    TooLong {
        /// The URL's length in bytes.
        len: usize,
    },
    /// The scheme is missing or is neither `https` nor `http`.
    UnsupportedScheme,
    /// `http` without an [`AllowedOrigin`] for it: credentials would travel
    /// in clear text.
    NotHttps,
    /// The URL has `user:password@`, which this client never sends.
    UserInfo,
    /// The host is empty or not a valid DNS name or IP literal.
    InvalidHost,
    /// The port is not a number from 1 to 65535.
    InvalidPort,
    /// The host is neither `intacct.com`, a subdomain of it, nor allowed
    /// explicitly.
    HostNotAllowed,
    /// A byte that cannot appear in a request line (space, control,
    /// non-ASCII), at this offset.
    InvalidCharacter {
        /// Byte offset in the URL.
        offset: usize,
    },
    /// The URL has a `#fragment`, which has no meaning for a POST.
    Fragment,
    /// The URL has a `?query` but no path, so it names no request target.
    MissingPath,
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { len } => write!(
                f,
                "endpoint URL is {len} bytes; the maximum is {ENDPOINT_CAPACITY}"
            ),
            Self::UnsupportedScheme => f.write_str("endpoint URL must start with https://"),
            Self::NotHttps => f.write_str(
                "endpoint URL uses http; use https, or allow this origin explicitly for a local test gateway",
            ),
            Self::UserInfo => f.write_str("endpoint URL must not contain user:password@"),
            Self::InvalidHost => f.write_str("endpoint URL has an empty or invalid host"),
            Self::InvalidPort => f.write_str("endpoint URL has an invalid port"),
            Self::HostNotAllowed => f.write_str(
                "endpoint host is not intacct.com or a subdomain of it; allow it explicitly only for a test gateway",
            ),
            Self::InvalidCharacter { offset } => write!(
                f,
                "endpoint URL has a space, control or non-ASCII byte at offset {offset}"
            ),
            Self::Fragment => f.write_str("endpoint URL must not contain a #fragment"),
            Self::MissingPath => f.write_str(
                "endpoint URL has a query but no path; write it as https://host/path?query",
            ),
        }
    }
}

impl core::error::Error for EndpointError {}

impl<'a> Endpoint<'a> {
    /// Parses and checks `url` against the host rule and `allowed`.
    pub fn parse(url: &'a str, allowed: &[AllowedOrigin<'_>]) -> Result<Self, EndpointError> {
        let endpoint = Self::parse_syntax(url)?;
        let listed = allowed.iter().any(|origin| endpoint.is_origin(origin));
        if !listed {
            if endpoint.security == Security::Plain {
                return Err(EndpointError::NotHttps);
            }
            if !is_intacct_host(endpoint.host) {
                return Err(EndpointError::HostNotAllowed);
            }
        }
        Ok(endpoint)
    }

    /// Parses `url` and checks everything but the host rule.
    fn parse_syntax(url: &'a str) -> Result<Self, EndpointError> {
        if url.len() > ENDPOINT_CAPACITY {
            return Err(EndpointError::TooLong { len: url.len() });
        }
        if let Some(offset) = url.bytes().position(|b| !(0x21..0x7f).contains(&b)) {
            return Err(EndpointError::InvalidCharacter { offset });
        }
        if url.contains('#') {
            return Err(EndpointError::Fragment);
        }

        let (security, rest) = split_scheme(url)?;
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(authority_end);
        if authority.contains('@') {
            return Err(EndpointError::UserInfo);
        }
        let (host, port) = split_host_port(authority)?;
        let explicit_port = port.is_some();
        let port = port.unwrap_or(match security {
            Security::Tls => 443,
            Security::Plain => 80,
        });
        let host = host.strip_suffix('.').unwrap_or(host);
        check_host(host)?;

        if path.starts_with('?') {
            return Err(EndpointError::MissingPath);
        }
        let path = if path.is_empty() { "/" } else { path };
        Ok(Self {
            url,
            security,
            host,
            port,
            explicit_port,
            path,
        })
    }

    fn is_origin(&self, origin: &AllowedOrigin<'_>) -> bool {
        origin.security == self.security
            && origin.port == self.port
            && origin.host.eq_ignore_ascii_case(self.host)
    }

    /// Returns the whole URL as given.
    pub fn url(&self) -> &'a str {
        self.url
    }

    /// Returns the host, without IPv6 brackets and without a trailing dot.
    pub fn host(&self) -> &'a str {
        self.host
    }

    /// Returns the port, the scheme's default when the URL names none.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Returns whether the URL names its port explicitly.
    pub fn has_explicit_port(&self) -> bool {
        self.explicit_port
    }

    /// `Tls` for `https`, `Plain` for `http`.
    pub fn security(&self) -> Security {
        self.security
    }

    /// Returns the request target: path and query, `/` when the URL has
    /// none.
    pub fn path(&self) -> &'a str {
        self.path
    }

    /// Returns where a transport connects for this endpoint.
    pub fn target(&self) -> Target<'a> {
        Target {
            host: self.host,
            port: self.port,
            security: self.security,
        }
    }

    /// Returns whether two endpoints reach the same server (scheme, host and port),
    /// so that an open connection to one serves the other.
    pub fn same_origin(&self, other: &Endpoint<'_>) -> bool {
        self.security == other.security
            && self.port == other.port
            && self.host.eq_ignore_ascii_case(other.host)
    }
}

/// Returns whether `host` is `intacct.com` or a subdomain of it, ignoring
/// case.
pub fn is_intacct_host(host: &str) -> bool {
    const DOMAIN: &str = "intacct.com";
    if host.eq_ignore_ascii_case(DOMAIN) {
        return true;
    }
    let Some(split) = host.len().checked_sub(DOMAIN.len() + 1) else {
        return false;
    };
    host.as_bytes().get(split) == Some(&b'.')
        && host
            .get(split + 1..)
            .is_some_and(|suffix| suffix.eq_ignore_ascii_case(DOMAIN))
}

fn split_scheme(url: &str) -> Result<(Security, &str), EndpointError> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or(EndpointError::UnsupportedScheme)?;
    if scheme.eq_ignore_ascii_case("https") {
        Ok((Security::Tls, rest))
    } else if scheme.eq_ignore_ascii_case("http") {
        Ok((Security::Plain, rest))
    } else {
        Err(EndpointError::UnsupportedScheme)
    }
}

fn split_host_port(authority: &str) -> Result<(&str, Option<u16>), EndpointError> {
    let (host, port_text) = if let Some(bracketed) = authority.strip_prefix('[') {
        let end = bracketed.find(']').ok_or(EndpointError::InvalidHost)?;
        let host = &bracketed[..end];
        let after = &bracketed[end + 1..];
        if !host.contains(':')
            || !host
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(EndpointError::InvalidHost);
        }
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return Err(EndpointError::InvalidHost),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port_text {
        None => None,
        Some(text) => Some(parse_port(text)?),
    };
    Ok((host, port))
}

fn parse_port(text: &str) -> Result<u16, EndpointError> {
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EndpointError::InvalidPort);
    }
    match text.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(EndpointError::InvalidPort),
    }
}

fn check_host(host: &str) -> Result<(), EndpointError> {
    if host.is_empty() || host.len() > 253 {
        return Err(EndpointError::InvalidHost);
    }
    if host.contains(':') {
        // An IPv6 literal, already checked by split_host_port.
        return Ok(());
    }
    for label in host.split('.') {
        let valid = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !valid {
            return Err(EndpointError::InvalidHost);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: [AllowedOrigin<'static>; 2] = [
        AllowedOrigin {
            security: Security::Plain,
            host: "127.0.0.1",
            port: 8080,
        },
        AllowedOrigin {
            security: Security::Tls,
            host: "::1",
            port: 8443,
        },
    ];

    #[test]
    fn endpoint_default_parses() {
        let endpoint = Endpoint::parse(DEFAULT_ENDPOINT, &[]).unwrap();
        assert_eq!(endpoint.host(), "api.intacct.com");
        assert_eq!(endpoint.port(), 443);
        assert_eq!(endpoint.path(), "/ia/xml/xmlgw.phtml");
        assert_eq!(endpoint.security(), Security::Tls);
        assert!(!endpoint.has_explicit_port());
    }

    #[test]
    fn endpoint_accepts_intacct_hosts() {
        for url in [
            "https://intacct.com/ia/xml/xmlgw.phtml",
            "HTTPS://API.INTACCT.COM/ia/xml/xmlgw.phtml",
            "https://api.intacct.com./ia/xml/xmlgw.phtml",
            "https://eu.api.intacct.com:8443/x?y=1",
            "https://api.intacct.com",
        ] {
            assert!(Endpoint::parse(url, &[]).is_ok(), "{url}");
        }
        let endpoint = Endpoint::parse("https://api.intacct.com.", &[]).unwrap();
        assert_eq!(endpoint.host(), "api.intacct.com");
        assert_eq!(endpoint.path(), "/");
    }

    #[test]
    fn endpoint_rejects_with_reason() {
        let cases = [
            (
                "http://api.intacct.com/ia/xml/xmlgw.phtml",
                EndpointError::NotHttps,
            ),
            ("ftp://api.intacct.com/", EndpointError::UnsupportedScheme),
            ("api.intacct.com/ia", EndpointError::UnsupportedScheme),
            ("https://user:pw@api.intacct.com/", EndpointError::UserInfo),
            (
                "https://evil.com/ia/xml/xmlgw.phtml",
                EndpointError::HostNotAllowed,
            ),
            ("https://evilintacct.com/", EndpointError::HostNotAllowed),
            (
                "https://intacct.com.evil.com/",
                EndpointError::HostNotAllowed,
            ),
            ("https://api.intacct.com../", EndpointError::InvalidHost),
            ("https://:443/", EndpointError::InvalidHost),
            ("https://api.intacct.com:0/", EndpointError::InvalidPort),
            ("https://api.intacct.com:65536/", EndpointError::InvalidPort),
            ("https://api.intacct.com:/", EndpointError::InvalidPort),
            (
                "https://api.intacct.com/a b",
                EndpointError::InvalidCharacter { offset: 25 },
            ),
            (
                "https://api.intacct.com/\r\nHost: x",
                EndpointError::InvalidCharacter { offset: 24 },
            ),
            ("https://api.intacct.com/#top", EndpointError::Fragment),
            ("https://api.intacct.com?x=1", EndpointError::MissingPath),
            ("https://127.0.0.1:8443/", EndpointError::HostNotAllowed),
            ("https://[::1]:8080/", EndpointError::HostNotAllowed),
        ];
        for (url, expected) in cases {
            assert_eq!(Endpoint::parse(url, &[]), Err(expected), "{url}");
        }
        let long = "https://api.intacct.com/".to_owned() + &"a".repeat(ENDPOINT_CAPACITY);
        assert_eq!(
            Endpoint::parse(&long, &[]),
            Err(EndpointError::TooLong { len: long.len() })
        );
    }

    #[test]
    fn endpoint_allow_list_is_exact() {
        let plain = Endpoint::parse("http://127.0.0.1:8080/ia/xml/xmlgw.phtml", &LOCAL).unwrap();
        assert_eq!(plain.security(), Security::Plain);
        let tls = Endpoint::parse("https://[::1]:8443/ia", &LOCAL).unwrap();
        assert_eq!(tls.host(), "::1");
        assert_eq!(
            Endpoint::parse("http://127.0.0.1:8081/", &LOCAL),
            Err(EndpointError::NotHttps)
        );
        assert_eq!(
            Endpoint::parse("https://127.0.0.1:8080/", &LOCAL),
            Err(EndpointError::HostNotAllowed)
        );
    }

    #[test]
    fn allowed_origin_from_url() {
        let origin = AllowedOrigin::from_url("http://127.0.0.1:8080/ia/xml/xmlgw.phtml").unwrap();
        assert_eq!(origin, LOCAL[0]);
        let origin = AllowedOrigin::from_url("https://[::1]:8443").unwrap();
        assert_eq!(origin, LOCAL[1]);
        assert_eq!(
            AllowedOrigin::from_url("https://user@[::1]:8443"),
            Err(EndpointError::UserInfo)
        );
        let endpoint = Endpoint::parse("https://[::1]:8443/x", &[origin]).unwrap();
        assert_eq!(endpoint.port(), 8443);
    }

    #[test]
    fn endpoint_same_origin() {
        let a = Endpoint::parse("https://API.intacct.com/a", &[]).unwrap();
        let b = Endpoint::parse("https://api.intacct.com:443/b", &[]).unwrap();
        let c = Endpoint::parse("https://eu.intacct.com/a", &[]).unwrap();
        assert!(a.same_origin(&b));
        assert!(!a.same_origin(&c));
    }

    use std::borrow::ToOwned;
}
