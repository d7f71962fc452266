//! StdTransport over plain TCP, connect failures, timeouts and builder
//! checks.

mod support;

use std::time::{Duration, Instant};

use embedded_io::{ErrorKind, Read, Write};
use intacct_core::transport::{Security, Target, Transport};
use intacct_transport_std::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, DEFAULT_WRITE_TIMEOUT, StdTransport,
    TransportError,
};
use support::{closed_port, listen, plain_echo_server, silent_server};

fn plain(host: &str, port: u16) -> Target<'_> {
    Target {
        host,
        port,
        security: Security::Plain,
    }
}

#[test]
fn echo_over_plain_tcp() {
    let (listener, addr) = listen("127.0.0.1").unwrap();
    let server = plain_echo_server(listener);
    let mut transport = StdTransport::new().unwrap();

    let mut connection = transport.connect(plain("127.0.0.1", addr.port())).unwrap();
    connection.write_all(b"plain bytes").unwrap();
    connection.flush().unwrap();
    let mut echoed = [0u8; 11];
    connection.read_exact(&mut echoed).unwrap();

    assert!(!connection.is_tls());
    assert_eq!(&echoed, b"plain bytes");
    drop(connection);
    assert_eq!(server.join().unwrap().unwrap(), b"plain bytes");
}

#[test]
fn read_returns_zero_when_server_closes() {
    let (listener, addr) = listen("127.0.0.1").unwrap();
    let server = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        std::io::Write::write_all(&mut socket, b"bye").unwrap();
    });
    let mut transport = StdTransport::new().unwrap();

    let mut connection = transport.connect(plain("127.0.0.1", addr.port())).unwrap();
    let mut reply = [0u8; 3];
    connection.read_exact(&mut reply).unwrap();
    server.join().unwrap();
    let mut rest = [0u8; 8];

    assert_eq!(&reply, b"bye");
    assert_eq!(connection.read(&mut rest).unwrap(), 0);
}

#[test]
fn connect_to_closed_port_is_refused() {
    let port = closed_port();
    let mut transport = StdTransport::new().unwrap();

    let error = transport.connect(plain("127.0.0.1", port)).unwrap_err();
    let message = error.to_string();

    let TransportError::Connect {
        host,
        port: error_port,
        attempts,
        ..
    } = &error
    else {
        panic!("expected a connect error, got {error:?}");
    };
    assert_eq!(host, "127.0.0.1");
    assert_eq!(*error_port, port);
    assert_eq!(attempts.len(), 1);
    assert_eq!(
        attempts[0].error.kind(),
        std::io::ErrorKind::ConnectionRefused
    );
    assert!(!error.is_timeout());
    assert!(
        message.contains(&format!("failed to connect to 127.0.0.1:{port}")),
        "{message}"
    );
    assert!(message.contains("connection refused"), "{message}");
}

#[test]
fn tls_connect_to_closed_port_is_refused() {
    let port = closed_port();
    let mut transport = StdTransport::new().unwrap();

    let error = transport
        .connect(Target {
            host: "127.0.0.1",
            port,
            security: Security::Tls,
        })
        .unwrap_err();

    assert!(matches!(error, TransportError::Connect { .. }), "{error:?}");
}

#[test]
fn read_from_silent_server_times_out() {
    let (listener, addr) = listen("127.0.0.1").unwrap();
    let server = silent_server(listener);
    let mut transport = StdTransport::builder()
        .read_timeout(Duration::from_millis(200))
        .build()
        .unwrap();

    let mut connection = transport.connect(plain("127.0.0.1", addr.port())).unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 16];
    let error = connection.read(&mut buf).unwrap_err();
    let elapsed = started.elapsed();
    let message = error.to_string();

    assert_eq!(embedded_io::Error::kind(&error), ErrorKind::TimedOut);
    assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
    assert!(
        message.contains(&format!("read from 127.0.0.1:{}", addr.port())),
        "{message}"
    );
    assert!(message.contains("timed out after 200 ms"), "{message}");
    assert!(elapsed >= Duration::from_millis(150), "took {elapsed:?}");
    drop(connection);
    server.join().unwrap();
}

#[test]
fn write_to_stalled_server_times_out() {
    let (listener, addr) = listen("127.0.0.1").unwrap();
    let (release, released) = std::sync::mpsc::channel::<()>();
    // The server accepts but never reads, so the socket buffers fill up.
    let server = std::thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        let _ = released.recv_timeout(Duration::from_secs(30));
        drop(socket);
    });
    let mut transport = StdTransport::builder()
        .write_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let mut connection = transport.connect(plain("127.0.0.1", addr.port())).unwrap();
    let chunk = vec![0x55u8; 64 * 1024];

    let mut written = 0usize;
    let error = loop {
        match connection.write(&chunk) {
            Ok(n) => written += n,
            Err(error) => break error,
        }
        assert!(written < 1 << 30, "wrote 1 GiB without blocking");
    };
    let message = error.to_string();
    release.send(()).unwrap();
    server.join().unwrap();

    assert_eq!(embedded_io::Error::kind(&error), ErrorKind::TimedOut);
    assert!(
        message.contains(&format!("write to 127.0.0.1:{}", addr.port())),
        "{message}"
    );
    assert!(message.contains("timed out after 200 ms"), "{message}");
}

#[test]
fn host_with_nul_byte_fails_to_resolve() {
    let mut transport = StdTransport::new().unwrap();

    // The standard library rejects the NUL byte before asking the resolver,
    // so no DNS query leaves the machine.
    let error = transport.connect(plain("bad\0host", 80)).unwrap_err();

    assert!(matches!(error, TransportError::Resolve { .. }), "{error:?}");
    assert!(
        error.to_string().starts_with("failed to resolve host bad"),
        "{error}"
    );
}

#[test]
fn defaults_are_documented_values() {
    let transport = StdTransport::new().unwrap();

    assert_eq!(transport.connect_timeout(), Duration::from_secs(10));
    assert_eq!(transport.read_timeout(), Duration::from_secs(60));
    assert_eq!(transport.write_timeout(), Duration::from_secs(30));
    assert_eq!(DEFAULT_CONNECT_TIMEOUT, Duration::from_secs(10));
    assert_eq!(DEFAULT_READ_TIMEOUT, Duration::from_secs(60));
    assert_eq!(DEFAULT_WRITE_TIMEOUT, Duration::from_secs(30));
}

#[test]
fn builder_sets_timeouts() {
    let transport = StdTransport::builder()
        .connect_timeout(Duration::from_secs(2))
        .read_timeout(Duration::from_secs(3))
        .write_timeout(Duration::from_secs(4))
        .build()
        .unwrap();

    assert_eq!(transport.connect_timeout(), Duration::from_secs(2));
    assert_eq!(transport.read_timeout(), Duration::from_secs(3));
    assert_eq!(transport.write_timeout(), Duration::from_secs(4));
}

#[test]
fn zero_timeout_is_rejected() {
    let cases = [
        (
            StdTransport::builder().connect_timeout(Duration::ZERO),
            "connect_timeout",
        ),
        (
            StdTransport::builder().read_timeout(Duration::ZERO),
            "read_timeout",
        ),
        (
            StdTransport::builder().write_timeout(Duration::ZERO),
            "write_timeout",
        ),
    ];
    for (builder, setting) in cases {
        let error = builder.build().unwrap_err();
        assert!(
            matches!(error, TransportError::InvalidTimeout { setting: s } if s == setting),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            format!("invalid {setting}: it must be greater than zero")
        );
    }
}

#[test]
fn no_roots_is_rejected() {
    let error = StdTransport::builder()
        .use_bundled_roots(false)
        .build()
        .unwrap_err();

    assert!(matches!(error, TransportError::NoTrustedRoots), "{error:?}");
    assert!(error.to_string().contains("add_root_pem"), "{error}");
}

#[test]
fn garbage_pem_is_rejected() {
    let error = StdTransport::builder()
        .add_root_pem(b"not a certificate")
        .unwrap_err();

    assert!(
        matches!(error, TransportError::InvalidRootPem { .. }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "invalid CA PEM in PEM data passed to add_root_pem: no -----BEGIN CERTIFICATE----- block found"
    );
}

#[test]
fn corrupt_certificate_block_names_file() {
    let dir = std::env::temp_dir().join(format!("tstd-pem-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("corrupt-ca.pem");
    std::fs::write(
        &path,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();

    let error = StdTransport::builder()
        .add_root_pem_file(&path)
        .unwrap_err();
    let message = error.to_string();
    std::fs::remove_dir_all(&dir).unwrap();

    assert!(
        matches!(error, TransportError::InvalidRootPem { .. }),
        "{error:?}"
    );
    assert!(
        message.starts_with(&format!("invalid CA PEM in {}", path.display())),
        "{message}"
    );
    assert!(message.contains("certificate block 1"), "{message}");
}

#[test]
fn missing_pem_file_names_path() {
    let path = std::env::temp_dir().join("tstd-no-such-dir/ca.pem");

    let error = StdTransport::builder()
        .add_root_pem_file(&path)
        .unwrap_err();

    assert!(
        matches!(error, TransportError::ReadRootFile { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with(&format!("failed to read CA PEM file {}", path.display())),
        "{error}"
    );
}
