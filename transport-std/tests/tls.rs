//! StdTransport over TLS against a rustls server on loopback.

mod support;

use std::io::ErrorKind as IoErrorKind;
use std::time::Duration;

use embedded_io::{Read, Write};
use intacct_core::transport::{Security, Target, Transport};
use intacct_transport_std::{StdConnection, StdTransport, TransportError};
use support::{
    hang_up_server, listen, pki, pki_with_ca_name, silent_server, tls_echo_server, tls_reply_server,
};

fn tls(host: &str, port: u16) -> Target<'_> {
    Target {
        host,
        port,
        security: Security::Tls,
    }
}

fn transport_trusting(ca_pem: &str) -> StdTransport {
    StdTransport::builder()
        .add_root_pem(ca_pem.as_bytes())
        .unwrap()
        .build()
        .unwrap()
}

/// Writes `message`, reads the same number of bytes back and returns them.
fn round_trip(connection: &mut StdConnection, message: &[u8]) -> Vec<u8> {
    connection.write_all(message).unwrap();
    connection.flush().unwrap();
    let mut echoed = vec![0u8; message.len()];
    connection.read_exact(&mut echoed).unwrap();
    echoed
}

#[test]
fn echo_over_ip_literal() {
    let pki = pki(&["127.0.0.1"]);
    let (listener, addr) = listen("127.0.0.1").unwrap();
    let server = tls_echo_server(listener, &pki);
    let mut transport = transport_trusting(&pki.ca_pem);

    let mut connection = transport.connect(tls("127.0.0.1", addr.port())).unwrap();
    assert!(connection.is_tls());
    assert_eq!(connection.peer_addr().unwrap(), addr);
    assert_eq!(round_trip(&mut connection, b"hello"), b"hello");
    assert_eq!(round_trip(&mut connection, b" world"), b" world");
    drop(connection);

    // The server saw a clean close_notify, so it returns what it received.
    assert_eq!(server.join().unwrap().unwrap(), b"hello world");
}

#[test]
fn echo_over_ipv6_literal() {
    let (listener, addr) = match listen("::1") {
        Ok(bound) => bound,
        Err(error) if error.kind() == IoErrorKind::AddrNotAvailable => {
            eprintln!("skipped: IPv6 loopback ::1 is not available: {error}");
            return;
        }
        Err(error) => panic!("binding [::1]:0 failed: {error}"),
    };
    let pki = pki(&["::1"]);
    let server = tls_echo_server(listener, &pki);
    let mut transport = transport_trusting(&pki.ca_pem);

    let mut connection = transport.connect(tls("::1", addr.port())).unwrap();
    assert_eq!(round_trip(&mut connection, b"over ipv6"), b"over ipv6");
    drop(connection);
    assert_eq!(server.join().unwrap().unwrap(), b"over ipv6");
}

#[test]
fn echo_over_dns_name() {
    let pki = pki(&["localhost"]);
    let (listener, addr) = listen("127.0.0.1").unwrap();
    let server = tls_echo_server(listener, &pki);
    let mut transport = transport_trusting(&pki.ca_pem);

    let mut connection = transport.connect(tls("localhost", addr.port())).unwrap();
    assert_eq!(round_trip(&mut connection, b"by name"), b"by name");
    drop(connection);
    assert_eq!(server.join().unwrap().unwrap(), b"by name");
}

#[test]
fn echo_large_payload() {
    let pki = pki(&["127.0.0.1"]);
    let (listener, addr) = listen("127.0.0.1").unwrap();
    let server = tls_echo_server(listener, &pki);
    let mut transport = transport_trusting(&pki.ca_pem);
    let payload: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();

    let mut connection = transport.connect(tls("127.0.0.1", addr.port())).unwrap();
    let mut echoed = Vec::new();
    for chunk in payload.chunks(16_384) {
        echoed.extend(round_trip(&mut connection, chunk));
    }
    drop(connection);

    assert_eq!(echoed, payload);
    assert_eq!(server.join().unwrap().unwrap(), payload);
}

#[test]
fn read_returns_zero_after_close_notify() {
    let pki = pki(&["127.0.0.1"]);
    let (listener, addr) = listen("127.0.0.1").unwrap();
    let server = tls_reply_server(listener, &pki, 4, b"pong");
    let mut transport = transport_trusting(&pki.ca_pem);

    let mut connection = transport.connect(tls("127.0.0.1", addr.port())).unwrap();
    connection.write_all(b"ping").unwrap();
    connection.flush().unwrap();
    let mut reply = [0u8; 4];
    connection.read_exact(&mut reply).unwrap();
    let mut rest = [0u8; 16];
    let after_close = connection.read(&mut rest).unwrap();

    assert_eq!(&reply, b"pong");
    assert_eq!(after_close, 0);
    assert_eq!(server.join().unwrap().unwrap(), b"ping");
}

#[test]
fn untrusted_certificate_fails_handshake() {
    let pki = pki(&["127.0.0.1"]);
    let (listener, addr) = listen("127.0.0.1").unwrap();
    let server = tls_echo_server(listener, &pki);
    // Bundled Mozilla roots only: the test CA is unknown.
    let mut transport = StdTransport::new().unwrap();

    let error = transport
        .connect(tls("127.0.0.1", addr.port()))
        .unwrap_err();
    let message = error.to_string();

    assert!(error.is_certificate_error(), "{error:?}");
    assert!(!error.is_timeout());
    assert!(
        message.contains("TLS handshake with 127.0.0.1"),
        "{message}"
    );
    assert!(message.contains("certificate not trusted"), "{message}");
    assert!(message.contains("add_root_pem"), "{message}");
    // The client's alert ends the server's handshake with an error.
    assert!(server.join().unwrap().is_err());
}

/// Connects to a server whose certificate `server_pki` issued while
/// trusting only `client_ca_pem`, and returns the error.
fn connect_trusting_only(server_pki: &support::TestPki, client_ca_pem: &str) -> TransportError {
    let (listener, addr) = listen("127.0.0.1").unwrap();
    let server = tls_echo_server(listener, server_pki);
    let mut transport = StdTransport::builder()
        .use_bundled_roots(false)
        .add_root_pem(client_ca_pem.as_bytes())
        .unwrap()
        .build()
        .unwrap();

    let error = transport
        .connect(tls("127.0.0.1", addr.port()))
        .unwrap_err();
    assert!(server.join().unwrap().is_err());
    error
}

#[test]
fn certificate_from_other_ca_fails_handshake() {
    let server_pki = pki_with_ca_name("server CA", &["127.0.0.1"]);
    let other_pki = pki_with_ca_name("other CA", &["127.0.0.1"]);

    let error = connect_trusting_only(&server_pki, &other_pki.ca_pem);

    assert!(error.is_certificate_error(), "{error:?}");
    assert!(
        error.to_string().contains("certificate not trusted"),
        "{error}"
    );
}

#[test]
fn impostor_ca_with_same_name_fails_handshake() {
    let server_pki = pki_with_ca_name("shared CA name", &["127.0.0.1"]);
    let impostor_pki = pki_with_ca_name("shared CA name", &["127.0.0.1"]);

    let error = connect_trusting_only(&server_pki, &impostor_pki.ca_pem);

    assert!(error.is_certificate_error(), "{error:?}");
    assert!(
        error.to_string().contains("certificate not trusted"),
        "{error}"
    );
}

#[test]
fn ip_host_not_in_certificate_fails() {
    let pki = pki(&["gateway.test"]);
    let (listener, addr) = listen("127.0.0.1").unwrap();
    let server = tls_echo_server(listener, &pki);
    let mut transport = transport_trusting(&pki.ca_pem);

    let error = transport
        .connect(tls("127.0.0.1", addr.port()))
        .unwrap_err();
    let message = error.to_string();

    assert!(error.is_certificate_error(), "{error:?}");
    assert!(
        message.contains("certificate is not valid for host 127.0.0.1"),
        "{message}"
    );
    assert!(message.contains("gateway.test"), "{message}");
    assert!(server.join().unwrap().is_err());
}

#[test]
fn dns_host_not_in_certificate_fails() {
    let pki = pki(&["127.0.0.1"]);
    let (listener, addr) = listen("127.0.0.1").unwrap();
    let server = tls_echo_server(listener, &pki);
    let mut transport = transport_trusting(&pki.ca_pem);

    let error = transport
        .connect(tls("localhost", addr.port()))
        .unwrap_err();

    assert!(error.is_certificate_error(), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("certificate is not valid for host localhost"),
        "{error}"
    );
    assert!(server.join().unwrap().is_err());
}

#[test]
fn silent_server_times_out_handshake() {
    let (listener, addr) = listen("127.0.0.1").unwrap();
    let server = silent_server(listener);
    let pki = pki(&["127.0.0.1"]);
    let mut transport = StdTransport::builder()
        .read_timeout(Duration::from_millis(300))
        .add_root_pem(pki.ca_pem.as_bytes())
        .unwrap()
        .build()
        .unwrap();

    let error = transport
        .connect(tls("127.0.0.1", addr.port()))
        .unwrap_err();

    assert!(error.is_timeout(), "{error:?}");
    assert!(
        matches!(error, TransportError::TlsHandshake { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("timed out after 300 ms"),
        "{error}"
    );
    server.join().unwrap();
}

#[test]
fn server_hang_up_fails_handshake() {
    let (listener, addr) = listen("127.0.0.1").unwrap();
    let server = hang_up_server(listener);
    let mut transport = StdTransport::new().unwrap();

    let error = transport
        .connect(tls("127.0.0.1", addr.port()))
        .unwrap_err();

    assert!(
        matches!(error, TransportError::TlsHandshake { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("the server closed the connection"),
        "{error}"
    );
    assert!(!error.is_timeout());
    server.join().unwrap();
}

#[test]
fn invalid_server_name_is_rejected() {
    let (listener, addr) = listen("127.0.0.1").unwrap();
    let server = hang_up_server(listener);
    let mut transport = StdTransport::new().unwrap();

    // "127.1" resolves to 127.0.0.1 but is neither a DNS name nor an IP
    // address that rustls accepts as a server name.
    let error = transport.connect(tls("127.1", addr.port())).unwrap_err();

    assert!(
        matches!(error, TransportError::InvalidServerName { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("127.1"), "{error}");
    server.join().unwrap();
}

#[test]
fn ca_from_pem_file_is_trusted() {
    let pki = pki(&["127.0.0.1"]);
    let dir = std::env::temp_dir().join(format!("tstd-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ca.pem");
    // A key block next to the certificate is skipped.
    let pem = format!(
        "{}-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        pki.ca_pem
    );
    std::fs::write(&path, pem).unwrap();
    let built = StdTransport::builder()
        .use_bundled_roots(false)
        .add_root_pem_file(&path)
        .and_then(|builder| builder.build());
    std::fs::remove_dir_all(&dir).unwrap();
    let mut transport = built.unwrap();
    let (listener, addr) = listen("127.0.0.1").unwrap();
    let server = tls_echo_server(listener, &pki);

    let mut connection = transport.connect(tls("127.0.0.1", addr.port())).unwrap();
    assert_eq!(round_trip(&mut connection, b"from file"), b"from file");
    drop(connection);
    assert_eq!(server.join().unwrap().unwrap(), b"from file");
}
