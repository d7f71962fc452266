//! The embedded-nal transport on `std-embedded-nal` against the simulator
//! and against bare loopback sockets: connection reuse, TLS verification
//! failures, the TLS buffer lease, DNS and timeouts.

use embedded_io::{ErrorKind, Read};
use intacct_core::client::{
    Buffers, Client, ClientError, Config, DEFAULT_BODY_BUFFER, DEFAULT_HEAD_BUFFER, RetryPolicy,
};
use intacct_core::request::{Authentication, SequentialControlIds, SessionLocation};
use intacct_core::transport::{Security, Target, Transport};
use intacct_e2e::{LocalGateway, demo_login, demo_sender};
use intacct_transport_nal::embedded_nal::nb;
use intacct_transport_nal::embedded_tls::TlsError;
use intacct_transport_nal::{
    AddrType, ConnectError, Connection, Dns, DnsUnavailable, EmbeddedTls, NalTransport, NoDns,
    NoTls, Options, TcpClientStack, Timeouts, TlsBuffers, TlsOpenError, TlsUnavailable,
};
use intacct_transport_std::StdTimer;
use rand_core::OsRng;
use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};

use std_embedded_nal::Stack;

fn stack() -> RefCell<Stack> {
    RefCell::new(Stack)
}

fn ipv4_options() -> Options {
    Options {
        addr_type: AddrType::IPv4,
        ..Options::default()
    }
}

fn https_target(gateway: &LocalGateway, host: &'static str) -> Target<'static> {
    Target {
        host,
        port: gateway
            .simulator
            .https_addr()
            .expect("HTTPS listener")
            .port(),
        security: Security::Tls,
    }
}

#[test]
fn plain_connection_is_reused() {
    let gateway = LocalGateway::demo().unwrap();
    let stack = stack();
    let transport = NalTransport::new(&stack, StdTimer::new(), NoTls);
    let origins = gateway.allowed_origins();
    let mut config = Config::new(demo_sender());
    config.allowed_origins = &origins;
    config.retry = RetryPolicy::NONE;
    let mut client = Client::new(
        transport,
        StdTimer::new(),
        SequentialControlIds::new("reuse"),
        config,
    );
    let (mut head, mut body) = (vec![0; DEFAULT_HEAD_BUFFER], vec![0; DEFAULT_BODY_BUFFER]);
    let mut buffers = Buffers {
        head: &mut head,
        body: &mut body,
    };

    for _ in 0..2 {
        let session = client
            .get_session(
                gateway.http_url(),
                Authentication::Login(demo_login(None)),
                SessionLocation::Current,
                &mut buffers,
            )
            .unwrap();
        assert_eq!(session.endpoint.as_str(), gateway.http_url());
    }

    assert_eq!(gateway.simulator.session_count(), 2);
    assert_eq!(gateway.simulator.connections_accepted(), 1);
}

#[test]
fn tls_rejects_certificate_from_other_ca() {
    let gateway = LocalGateway::demo().unwrap();
    let other = LocalGateway::demo().unwrap();
    let stack = stack();
    let buffers: Box<TlsBuffers> = Box::default();
    let tls = EmbeddedTls::new(&buffers, other.simulator.ca_der(), OsRng);
    let mut transport =
        NalTransport::new(&stack, StdTimer::new(), tls).with_options(ipv4_options());

    let result = transport.connect(https_target(&gateway, "localhost"));

    assert!(
        matches!(
            result,
            Err(ConnectError::Tls(TlsOpenError::Handshake(
                TlsError::InvalidCertificate
            )))
        ),
        "{:?}",
        result.err()
    );
    assert!(!buffers.is_leased());
    assert_eq!(gateway.simulator.requests_received(), 0);
}

/// The operating system's sockets, with every host name resolving to
/// 127.0.0.1.
struct LoopbackDns(Stack);

impl TcpClientStack for LoopbackDns {
    type TcpSocket = <Stack as TcpClientStack>::TcpSocket;
    type Error = <Stack as TcpClientStack>::Error;

    fn socket(&mut self) -> Result<Self::TcpSocket, Self::Error> {
        self.0.socket()
    }

    fn connect(
        &mut self,
        socket: &mut Self::TcpSocket,
        remote: SocketAddr,
    ) -> nb::Result<(), Self::Error> {
        self.0.connect(socket, remote)
    }

    fn send(
        &mut self,
        socket: &mut Self::TcpSocket,
        buffer: &[u8],
    ) -> nb::Result<usize, Self::Error> {
        self.0.send(socket, buffer)
    }

    fn receive(
        &mut self,
        socket: &mut Self::TcpSocket,
        buffer: &mut [u8],
    ) -> nb::Result<usize, Self::Error> {
        self.0.receive(socket, buffer)
    }

    fn close(&mut self, socket: Self::TcpSocket) -> Result<(), Self::Error> {
        self.0.close(socket)
    }
}

impl Dns for LoopbackDns {
    type Error = std::convert::Infallible;

    fn get_host_by_name(
        &mut self,
        _hostname: &str,
        _addr_type: AddrType,
    ) -> nb::Result<IpAddr, Self::Error> {
        Ok(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }

    fn get_host_by_address(
        &mut self,
        _addr: IpAddr,
        _result: &mut [u8],
    ) -> nb::Result<usize, Self::Error> {
        Ok(0)
    }
}

#[test]
fn tls_rejects_host_name_not_in_certificate() {
    let gateway = LocalGateway::demo().unwrap();
    let stack = RefCell::new(LoopbackDns(Stack));
    let buffers: Box<TlsBuffers> = Box::default();
    let tls = EmbeddedTls::new(&buffers, gateway.simulator.ca_der(), OsRng);
    let mut transport = NalTransport::new(&stack, StdTimer::new(), tls);

    // Resolves to the simulator, but the certificate names only localhost.
    let result = transport.connect(https_target(&gateway, "gateway.example"));

    assert!(
        matches!(
            result,
            Err(ConnectError::Tls(TlsOpenError::Handshake(
                TlsError::InvalidCertificate
            )))
        ),
        "{:?}",
        result.err()
    );
    assert_eq!(gateway.simulator.requests_received(), 0);
}

#[test]
fn tls_rejects_ip_address_host() {
    let gateway = LocalGateway::demo().unwrap();
    let stack = stack();
    let buffers: Box<TlsBuffers> = Box::default();
    let tls = EmbeddedTls::new(&buffers, gateway.simulator.ca_der(), OsRng);
    let mut transport = NalTransport::new(&stack, StdTimer::new(), tls);

    let result = transport.connect(https_target(&gateway, "127.0.0.1"));

    assert!(
        matches!(
            result,
            Err(ConnectError::Tls(TlsOpenError::IpAddressServerName))
        ),
        "{:?}",
        result.err()
    );
}

#[test]
fn tls_buffers_lent_to_one_connection() {
    let gateway = LocalGateway::demo().unwrap();
    let stack = stack();
    let buffers: Box<TlsBuffers> = Box::default();
    let tls = EmbeddedTls::new(&buffers, gateway.simulator.ca_der(), OsRng);
    let mut transport =
        NalTransport::new(&stack, StdTimer::new(), tls).with_options(ipv4_options());
    let target = https_target(&gateway, "localhost");

    let first = transport.connect(target).unwrap();
    assert!(matches!(first, Connection::Tls(_)));
    assert!(buffers.is_leased());
    let second = transport.connect(target);
    assert!(
        matches!(second, Err(ConnectError::Tls(TlsOpenError::BuffersInUse))),
        "{:?}",
        second.err()
    );

    drop(first);
    assert!(!buffers.is_leased());
    let third = transport.connect(target);
    assert!(third.is_ok(), "{:?}", third.err());
}

#[test]
fn no_tls_rejects_https_target() {
    let gateway = LocalGateway::demo().unwrap();
    let stack = stack();
    let mut transport = NalTransport::new(&stack, StdTimer::new(), NoTls);

    let result = transport.connect(https_target(&gateway, "localhost"));

    assert!(
        matches!(result, Err(ConnectError::Tls(TlsUnavailable))),
        "{:?}",
        result.err()
    );
}

#[test]
fn closed_port_fails_to_connect() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let stack = stack();
    let mut transport = NalTransport::new(&stack, StdTimer::new(), NoTls);

    let result = transport.connect(Target {
        host: "127.0.0.1",
        port,
        security: Security::Plain,
    });

    assert!(
        matches!(result, Err(ConnectError::Connect(_))),
        "{:?}",
        result.err()
    );
}

#[test]
fn no_dns_rejects_host_names_only() {
    let gateway = LocalGateway::demo().unwrap();
    let port = gateway.simulator.http_addr().expect("HTTP listener").port();
    let stack = RefCell::new(NoDns(Stack));
    let mut transport = NalTransport::new(&stack, StdTimer::new(), NoTls);

    let by_name = transport.connect(Target {
        host: "localhost",
        port,
        security: Security::Plain,
    });
    let by_address = transport.connect(Target {
        host: "127.0.0.1",
        port,
        security: Security::Plain,
    });

    assert!(
        matches!(by_name, Err(ConnectError::Resolve(DnsUnavailable))),
        "{:?}",
        by_name.err()
    );
    assert!(by_address.is_ok(), "{:?}", by_address.err());
}

#[test]
fn silent_server_times_out_read() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let stack = stack();
    let options = Options {
        timeouts: Timeouts {
            io_ms: 200,
            ..Timeouts::DEFAULT
        },
        ..Options::default()
    };
    let mut transport = NalTransport::new(&stack, StdTimer::new(), NoTls).with_options(options);
    let mut connection = transport
        .connect(Target {
            host: "127.0.0.1",
            port,
            security: Security::Plain,
        })
        .unwrap();
    let (_accepted, _) = listener.accept().unwrap();

    // The server never writes, so only the transport's own timeout can end
    // this read.
    let result = connection.read(&mut [0u8; 16]);

    assert_eq!(result, Err(ErrorKind::TimedOut));
}

#[test]
fn client_reports_tls_failure_as_connect_error() {
    let gateway = LocalGateway::demo().unwrap();
    let other = LocalGateway::demo().unwrap();
    let stack = stack();
    let buffers: Box<TlsBuffers> = Box::default();
    let tls = EmbeddedTls::new(&buffers, other.simulator.ca_der(), OsRng);
    let transport = NalTransport::new(&stack, StdTimer::new(), tls).with_options(ipv4_options());
    let origins = gateway.allowed_origins();
    let mut config = Config::new(demo_sender());
    config.allowed_origins = &origins;
    config.retry = RetryPolicy::NONE;
    let mut client = Client::new(
        transport,
        StdTimer::new(),
        SequentialControlIds::new("bad-ca"),
        config,
    );
    let (mut head, mut body) = (vec![0; DEFAULT_HEAD_BUFFER], vec![0; DEFAULT_BODY_BUFFER]);
    let mut buffers = Buffers {
        head: &mut head,
        body: &mut body,
    };

    let result = client.get_session(
        gateway.https_url(),
        Authentication::Login(demo_login(None)),
        SessionLocation::Current,
        &mut buffers,
    );

    let error = result.unwrap_err();
    assert!(
        matches!(
            error,
            ClientError::Connect(ConnectError::Tls(TlsOpenError::Handshake(
                TlsError::InvalidCertificate
            )))
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("InvalidCertificate"), "{error}");
    assert_eq!(gateway.simulator.session_count(), 0);
}

#[test]
fn untrusted_certificate_not_retried() {
    let gateway = LocalGateway::demo().unwrap();
    let other = LocalGateway::demo().unwrap();
    let stack = stack();
    let buffers: Box<TlsBuffers> = Box::default();
    let tls = EmbeddedTls::new(&buffers, other.simulator.ca_der(), OsRng);
    let transport = NalTransport::new(&stack, StdTimer::new(), tls).with_options(ipv4_options());
    let origins = gateway.allowed_origins();
    let mut config = Config::new(demo_sender());
    config.allowed_origins = &origins;
    config.retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff_ms: 1,
        max_backoff_ms: 1,
    };
    let mut client = Client::new(
        transport,
        StdTimer::new(),
        SequentialControlIds::new("no-retry"),
        config,
    );
    let (mut head, mut body) = (vec![0; DEFAULT_HEAD_BUFFER], vec![0; DEFAULT_BODY_BUFFER]);
    let mut buffers = Buffers {
        head: &mut head,
        body: &mut body,
    };

    let result = client.get_session(
        gateway.https_url(),
        Authentication::Login(demo_login(None)),
        SessionLocation::Current,
        &mut buffers,
    );

    assert!(result.is_err());
    assert_eq!(gateway.simulator.connections_accepted(), 1);
}
