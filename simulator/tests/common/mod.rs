//! A small HTTP/1.1 client over std sockets (and rustls for HTTPS), request
//! builders and XML helpers shared by the integration tests.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use intacct_simulator::{
    Config, DEMO_COMPANY_ID, DEMO_SENDER_ID, DEMO_SENDER_PASSWORD, DEMO_USER_ID,
    DEMO_USER_PASSWORD, Handle, Options, Simulator,
};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// Read timeout of test connections, so a hung simulator fails a test
/// instead of stalling it.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A response as read off the wire.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Sizes of the chunks, for a chunked response.
    pub chunk_sizes: Vec<usize>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    pub fn xml(&self) -> Xml {
        Xml(self.text().to_owned())
    }
}

/// A response document with path look-ups. A path is a `/`-separated list
/// of element names below the root element.
pub struct Xml(pub String);

impl Xml {
    fn nodes<'a>(
        &self,
        document: &'a roxmltree::Document<'a>,
        path: &str,
    ) -> Vec<roxmltree::Node<'a, 'a>> {
        let mut nodes = vec![document.root_element()];
        for step in path.split('/').filter(|step| !step.is_empty()) {
            nodes = nodes
                .iter()
                .flat_map(|node| node.children())
                .filter(|child| child.is_element() && child.tag_name().name() == step)
                .collect();
        }
        nodes
    }

    /// Text of every element at `path`, in document order.
    pub fn texts(&self, path: &str) -> Vec<String> {
        let document = roxmltree::Document::parse(&self.0).unwrap();
        self.nodes(&document, path)
            .iter()
            .map(|node| node.text().unwrap_or_default().to_owned())
            .collect()
    }

    /// Text of the first element at `path`, if any.
    pub fn text(&self, path: &str) -> Option<String> {
        self.texts(path).into_iter().next()
    }

    /// Text of the first element at `path`; panics with the document if absent.
    pub fn get(&self, path: &str) -> String {
        self.text(path)
            .unwrap_or_else(|| panic!("no element at {path} in:\n{}", self.0))
    }

    /// Number of elements at `path`.
    pub fn count(&self, path: &str) -> usize {
        let document = roxmltree::Document::parse(&self.0).unwrap();
        self.nodes(&document, path).len()
    }

    /// Value of attribute `name` of the first element at `path`.
    pub fn attribute(&self, path: &str, name: &str) -> Option<String> {
        let document = roxmltree::Document::parse(&self.0).unwrap();
        self.nodes(&document, path)
            .first()
            .and_then(|node| node.attribute(name))
            .map(str::to_owned)
    }
}

/// Reads one response; `None` if the server closed before sending a byte.
pub fn read_response<R: BufRead>(reader: &mut R) -> Option<HttpResponse> {
    let mut status_line = String::new();
    if reader.read_line(&mut status_line).unwrap_or(0) == 0 {
        return None;
    }
    let mut parts = status_line.trim_end().splitn(3, ' ');
    assert_eq!(
        parts.next(),
        Some("HTTP/1.1"),
        "status line {status_line:?}"
    );
    let status: u16 = parts.next().unwrap().parse().unwrap();

    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }

    let mut response = HttpResponse {
        status,
        headers,
        body: Vec::new(),
        chunk_sizes: Vec::new(),
    };
    if status == 100 {
        return read_response(reader);
    }

    if response
        .header("transfer-encoding")
        .is_some_and(|value| value.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let size = usize::from_str_radix(line.trim_end(), 16).unwrap();
            if size == 0 {
                let mut end = String::new();
                reader.read_line(&mut end).unwrap();
                assert_eq!(end, "\r\n");
                break;
            }
            response.chunk_sizes.push(size);
            let start = response.body.len();
            response.body.resize(start + size, 0);
            reader.read_exact(&mut response.body[start..]).unwrap();
            let mut crlf = [0u8; 2];
            reader.read_exact(&mut crlf).unwrap();
            assert_eq!(&crlf, b"\r\n");
        }
    } else {
        let length: usize = response.header("content-length").unwrap().parse().unwrap();
        response.body.resize(length, 0);
        reader.read_exact(&mut response.body).unwrap();
    }
    Some(response)
}

/// Builds the bytes of a gateway `POST` with `body`.
pub fn post_bytes(path: &str, body: &str, close: bool) -> Vec<u8> {
    let connection = if close { "close" } else { "keep-alive" };
    let mut bytes = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/xml\r\n\
         Content-Length: {}\r\nConnection: {connection}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

/// A plain TCP connection with a read buffer.
pub struct Connection {
    pub reader: BufReader<TcpStream>,
}

impl Connection {
    pub fn open(address: SocketAddr) -> Connection {
        let stream = TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        Connection {
            reader: BufReader::new(stream),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).unwrap();
    }

    pub fn read(&mut self) -> Option<HttpResponse> {
        read_response(&mut self.reader)
    }

    /// Sends a keep-alive gateway request and reads the response.
    pub fn post(&mut self, body: &str) -> HttpResponse {
        self.send(&post_bytes(intacct_simulator::GATEWAY_PATH, body, false));
        self.read()
            .expect("the simulator closed the connection without a response")
    }

    /// Reads until the server closes; returns the bytes.
    pub fn read_to_end(&mut self) -> Vec<u8> {
        let mut rest = Vec::new();
        let _ = self.reader.read_to_end(&mut rest);
        rest
    }
}

/// Sends one request on a new connection and reads the response.
pub fn post(address: SocketAddr, body: &str) -> HttpResponse {
    let mut connection = Connection::open(address);
    connection.send(&post_bytes(intacct_simulator::GATEWAY_PATH, body, true));
    connection
        .read()
        .expect("the simulator closed the connection without a response")
}

/// Builds a TLS client configuration that trusts only the simulator's CA.
pub fn tls_config(handle: &Handle) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(handle.ca_der().to_vec()))
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// A TLS connection to the HTTPS listener, verifying the name `server_name`.
pub struct TlsConnection {
    pub reader: BufReader<StreamOwned<ClientConnection, TcpStream>>,
}

impl TlsConnection {
    pub fn open(handle: &Handle, server_name: &str) -> TlsConnection {
        let stream = TcpStream::connect(handle.https_addr().unwrap()).unwrap();
        stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        let name = ServerName::try_from(server_name.to_owned()).unwrap();
        let connection = ClientConnection::new(tls_config(handle), name).unwrap();
        TlsConnection {
            reader: BufReader::new(StreamOwned::new(connection, stream)),
        }
    }

    pub fn post(&mut self, body: &str) -> HttpResponse {
        let bytes = post_bytes(intacct_simulator::GATEWAY_PATH, body, false);
        self.reader.get_mut().write_all(&bytes).unwrap();
        self.reader.get_mut().flush().unwrap();
        read_response(&mut self.reader)
            .expect("the simulator closed the TLS connection without a response")
    }
}

/// Starts a demo simulator with only the HTTP listener.
pub fn start_demo() -> Handle {
    Simulator::start(Config::demo(), Options::http_only()).unwrap()
}

/// Starts a simulator with `config` and only the HTTP listener.
pub fn start(config: Config) -> Handle {
    Simulator::start(config, Options::http_only()).unwrap()
}

/// Level requested by a `getAPISession` call.
#[derive(Clone, Copy, Debug)]
pub enum Level<'a> {
    /// `<getAPISession/>`
    Current,
    /// `<getAPISession><locationid/></getAPISession>`
    Top,
    /// `<getAPISession><locationid></locationid></getAPISession>`
    TopLong,
    /// `<getAPISession><locationid>E</locationid></getAPISession>`
    Entity(&'a str),
}

pub fn get_api_session(level: Level<'_>) -> String {
    let inner = match level {
        Level::Current => String::from("<getAPISession/>"),
        Level::Top => String::from("<getAPISession><locationid/></getAPISession>"),
        Level::TopLong => String::from("<getAPISession><locationid></locationid></getAPISession>"),
        Level::Entity(entity) => {
            format!("<getAPISession><locationid>{entity}</locationid></getAPISession>")
        }
    };
    format!("<function controlid=\"func-1\">{inner}</function>")
}

pub fn read_locations(control_id: &str) -> String {
    format!(
        "<function controlid=\"{control_id}\"><readByQuery><object>LOCATION</object>\
         <fields>*</fields><query></query><pagesize>100</pagesize></readByQuery></function>"
    )
}

pub fn login(user: &str, company: &str, password: &str, location: Option<&str>) -> String {
    let location = location
        .map(|entity| format!("<locationid>{entity}</locationid>"))
        .unwrap_or_default();
    format!(
        "<login><userid>{user}</userid><companyid>{company}</companyid>\
         <password>{password}</password>{location}</login>"
    )
}

pub fn demo_login(location: Option<&str>) -> String {
    login(DEMO_USER_ID, DEMO_COMPANY_ID, DEMO_USER_PASSWORD, location)
}

pub fn session(session_id: &str) -> String {
    format!("<sessionid>{session_id}</sessionid>")
}

/// Builds a full request document with the demo sender.
pub fn request(authentication: &str, content: &str) -> String {
    request_from(
        DEMO_SENDER_ID,
        DEMO_SENDER_PASSWORD,
        authentication,
        content,
        false,
    )
}

pub fn request_from(
    sender_id: &str,
    sender_password: &str,
    authentication: &str,
    content: &str,
    transaction: bool,
) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<request>\n  <control>\n    \
         <senderid>{sender_id}</senderid>\n    <password>{sender_password}</password>\n    \
         <controlid>ctl-1</controlid>\n    <uniqueid>false</uniqueid>\n    \
         <dtdversion>3.0</dtdversion>\n    <includewhitespace>false</includewhitespace>\n  \
         </control>\n  <operation transaction=\"{transaction}\">\n    <authentication>\n      \
         {authentication}\n    </authentication>\n    <content>\n      {content}\n    </content>\n  \
         </operation>\n</request>\n"
    )
}

/// Signs in with the demo user at `location` and returns the session id.
pub fn demo_session(handle: &Handle, location: Option<&str>) -> String {
    let response = post(
        handle.http_addr().unwrap(),
        &request(&demo_login(location), &get_api_session(Level::Current)),
    );
    assert_eq!(response.status, 200, "{}", response.text());
    response.xml().get("operation/result/data/api/sessionid")
}

/// Parses `YYYY-MM-DDTHH:MM:SS±HH:MM` into (Unix seconds, offset minutes).
pub fn parse_timestamp(text: &str) -> (i64, i32) {
    assert_eq!(text.len(), 25, "timestamp {text:?}");
    let number = |range: std::ops::Range<usize>| -> i64 { text[range].parse().unwrap() };
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    let (hour, minute, second) = (number(11..13), number(14..16), number(17..19));
    let sign = match &text[19..20] {
        "+" => 1,
        "-" => -1,
        other => panic!("bad offset sign {other:?} in {text:?}"),
    };
    let offset = sign * (number(20..22) * 60 + number(23..25));
    // Days from civil (Howard Hinnant's algorithm).
    let year_adjusted = if month <= 2 { year - 1 } else { year };
    let era = year_adjusted.div_euclid(400);
    let year_of_era = year_adjusted - era * 400;
    let month_shifted = (month + 9) % 12;
    let day_of_year = (153 * month_shifted + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let local = days * 86_400 + hour * 3600 + minute * 60 + second;
    (local - offset * 60, offset as i32)
}
