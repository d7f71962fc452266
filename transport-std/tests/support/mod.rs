//! Loopback servers and test certificates shared by the transport tests.

#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// A CA and a server certificate it signed.
pub struct TestPki {
    /// The CA certificate in PEM, for `add_root_pem`.
    pub ca_pem: String,
    /// The server certificate chain.
    pub chain: Vec<CertificateDer<'static>>,
    /// The server's private key in PKCS#8 DER.
    pub key_der: Vec<u8>,
}

/// Generates a fresh CA and a server certificate for `names` (DNS names or
/// IP addresses).
pub fn pki(names: &[&str]) -> TestPki {
    pki_with_ca_name("transport-std test CA", names)
}

/// Like [`pki`], with the CA's common name set to `ca_name`.
pub fn pki_with_ca_name(ca_name: &str, names: &[&str]) -> TestPki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, ca_name);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    let mut leaf_params = CertificateParams::new(names).unwrap();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "transport-std test server");
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.use_authority_key_identifier_extension = true;
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

    TestPki {
        ca_pem: ca_cert.pem(),
        chain: vec![leaf_cert.der().clone()],
        key_der: leaf_key.serialize_der(),
    }
}

fn server_config(pki: &TestPki) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.key_der.clone()));
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(pki.chain.clone(), key)
        .unwrap();
    Arc::new(config)
}

/// Binds a listener on `ip` with an OS-chosen port.
pub fn listen(ip: &str) -> io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind((ip, 0))?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// Copies every byte read from `stream` back until the peer closes, and
/// returns the bytes received.
fn echo<S: Read + Write>(stream: &mut S) -> io::Result<Vec<u8>> {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(received);
        }
        received.extend_from_slice(&buf[..n]);
        stream.write_all(&buf[..n])?;
        stream.flush()?;
    }
}

/// Serves one TLS connection with `pki`'s certificate, echoing bytes until
/// the client closes. The thread returns what it received, or the error
/// that ended the connection (such as the client rejecting the certificate).
pub fn tls_echo_server(
    listener: TcpListener,
    pki: &TestPki,
) -> JoinHandle<Result<Vec<u8>, String>> {
    let config = server_config(pki);
    thread::spawn(move || {
        let (socket, _) = listener.accept().map_err(|e| e.to_string())?;
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        let connection = ServerConnection::new(config).map_err(|e| e.to_string())?;
        let mut stream = StreamOwned::new(connection, socket);
        echo(&mut stream).map_err(|e| e.to_string())
    })
}

/// Serves one TLS connection: reads `request_len` bytes, replies with
/// `reply`, sends `close_notify` and closes.
pub fn tls_reply_server(
    listener: TcpListener,
    pki: &TestPki,
    request_len: usize,
    reply: &'static [u8],
) -> JoinHandle<Result<Vec<u8>, String>> {
    let config = server_config(pki);
    thread::spawn(move || {
        let (socket, _) = listener.accept().map_err(|e| e.to_string())?;
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        let connection = ServerConnection::new(config).map_err(|e| e.to_string())?;
        let mut stream = StreamOwned::new(connection, socket);
        let mut request = vec![0u8; request_len];
        stream.read_exact(&mut request).map_err(|e| e.to_string())?;
        stream.write_all(reply).map_err(|e| e.to_string())?;
        stream.conn.send_close_notify();
        stream.flush().map_err(|e| e.to_string())?;
        Ok(request)
    })
}

/// Serves one plain TCP connection, echoing bytes until the client closes.
pub fn plain_echo_server(listener: TcpListener) -> JoinHandle<Result<Vec<u8>, String>> {
    thread::spawn(move || {
        let (mut socket, _) = listener.accept().map_err(|e| e.to_string())?;
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        echo(&mut socket).map_err(|e| e.to_string())
    })
}

/// Accepts one connection and never sends a byte, like a stalled gateway.
/// The thread ends when the client closes the connection or after 10 s.
pub fn silent_server(listener: TcpListener) -> JoinHandle<()> {
    thread::spawn(move || {
        if let Ok((mut socket, _)) = listener.accept() {
            let _ = socket.set_read_timeout(Some(Duration::from_secs(10)));
            let mut sink = [0u8; 1024];
            while let Ok(n) = socket.read(&mut sink) {
                if n == 0 {
                    break;
                }
            }
        }
    })
}

/// Accepts one connection, reads the client's first bytes (a TLS
/// ClientHello), then closes its sending side without a reply, like a
/// server that does not speak TLS. Reading first makes the client see a
/// clean end of stream instead of a reset.
pub fn hang_up_server(listener: TcpListener) -> JoinHandle<()> {
    thread::spawn(move || {
        if let Ok((mut socket, _)) = listener.accept() {
            let _ = socket.set_read_timeout(Some(Duration::from_secs(10)));
            let mut first = [0u8; 16 * 1024];
            let _ = socket.read(&mut first);
            let _ = socket.shutdown(std::net::Shutdown::Write);
            while let Ok(n) = socket.read(&mut first) {
                if n == 0 {
                    break;
                }
            }
        }
    })
}

/// Returns a loopback port that nothing listens on: the OS picked it for a
/// listener that is closed again before returning.
pub fn closed_port() -> u16 {
    let (listener, addr) = listen("127.0.0.1").unwrap();
    drop(listener);
    addr.port()
}
