//! End-to-end tests of `getAPISession` through the std transport and the
//! blocking client against the simulator over real TCP and TLS on loopback.

// The client's error contains the gateway's error texts inline (there is no
// heap in the core), so results that carry it are large by design.
#![allow(clippy::result_large_err)]

use intacct_core::client::{
    Buffers, Client, ClientError, Config, DEFAULT_BODY_BUFFER, DEFAULT_HEAD_BUFFER, EndpointRole,
    RetryPolicy, Timer,
};
use intacct_core::endpoint::{AllowedOrigin, EndpointError};
use intacct_core::http::HttpError;
use intacct_core::request::{Authentication, Login, Sender, SequentialControlIds, SessionLocation};
use intacct_core::response::{Layer, Location, ResponseError, Status};
use intacct_core::session::{Clock, Session};
use intacct_core::transport::Security;
use intacct_e2e::{LocalGateway, demo_login, demo_sender};
use intacct_simulator::{
    Config as SimConfig, DEMO_COMPANY_ID, Fault, Options, RESTRICTED_USER_ID,
    RESTRICTED_USER_PASSWORD,
};
use intacct_transport_std::{StdTransport, TransportError};
use std::time::Duration;

/// A clock that moves only when the client waits, recording each wait.
#[derive(Default)]
struct FakeTimer {
    now_ms: u64,
    delays: Vec<u32>,
}

impl Clock for FakeTimer {
    fn now_ms(&self) -> u64 {
        self.now_ms
    }
}

impl Timer for FakeTimer {
    fn delay_ms(&mut self, ms: u32) {
        self.delays.push(ms);
        self.now_ms += u64::from(ms);
    }
}

struct Fixture {
    gateway: LocalGateway,
    timer: FakeTimer,
    head: Vec<u8>,
    body: Vec<u8>,
}

type TestClient<'a> = Client<'a, StdTransport, &'a mut FakeTimer, SequentialControlIds<'static>>;

impl Fixture {
    fn new() -> Self {
        Self::with(SimConfig::demo(), Options::default())
    }

    fn with(config: SimConfig, options: Options) -> Self {
        Self {
            gateway: LocalGateway::start(config, options).expect("simulator starts"),
            timer: FakeTimer::default(),
            head: vec![0; DEFAULT_HEAD_BUFFER],
            body: vec![0; DEFAULT_BODY_BUFFER],
        }
    }

    /// Runs `f` with a client allowed to reach this simulator only.
    fn run<R>(
        &mut self,
        sender: Sender<'_>,
        f: impl FnOnce(&mut TestClient<'_>, &mut Buffers<'_>, &LocalGateway) -> R,
    ) -> R {
        let origins = self.gateway.allowed_origins();
        let mut config = Config::new(sender);
        config.allowed_origins = &origins;
        let transport = self.gateway.transport().expect("transport builds");
        let mut client = Client::new(
            transport,
            &mut self.timer,
            SequentialControlIds::new("e2e"),
            config,
        );
        let mut buffers = Buffers {
            head: &mut self.head,
            body: &mut self.body,
        };
        f(&mut client, &mut buffers, &self.gateway)
    }

    fn login(
        &mut self,
        url_https: bool,
        location: SessionLocation<'_>,
    ) -> Result<Session, ClientError<TransportError>> {
        self.run(demo_sender(), |client, buffers, gateway| {
            let url = if url_https {
                gateway.https_url()
            } else {
                gateway.http_url()
            };
            client.get_session(
                url,
                Authentication::Login(demo_login(None)),
                location,
                buffers,
            )
        })
    }
}

fn gateway_error(error: ClientError<TransportError>) -> intacct_core::response::GatewayError {
    match error {
        ClientError::Response(ResponseError::Gateway(error)) => error,
        other => panic!("expected a gateway error, got {other:?}"),
    }
}

#[test]
fn login_over_tls_current_level() {
    let mut fixture = Fixture::new();
    let session = fixture.login(true, SessionLocation::Current).unwrap();

    assert_eq!(session.endpoint.as_str(), fixture.gateway.https_url());
    assert_eq!(session.location, Location::TopLevel);
    assert_eq!(session.company_id.as_str(), DEMO_COMPANY_ID);
    assert!(session.session_id.expose().len() >= 40);
    let lifetime = session
        .lifetime
        .duration_s()
        .expect("the simulator states a timeout");
    assert_eq!(lifetime, 30 * 60);
    assert_eq!(session.lifetime.remaining_ms(0), Some(30 * 60 * 1000));

    let body = fixture.gateway.simulator.last_request_body().unwrap();
    assert!(body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<request><control>"));
    assert!(
        body.contains(
            "<content><function controlid=\"e2e-2\"><getAPISession/></function></content>"
        )
    );
    assert!(body.contains("<controlid>e2e-1</controlid>"));
}

#[test]
fn login_over_plain_http_when_allowed() {
    let mut fixture = Fixture::new();
    let session = fixture.login(false, SessionLocation::Current).unwrap();
    assert_eq!(session.endpoint.as_str(), fixture.gateway.http_url());
}

#[test]
fn entity_and_top_level_forms() {
    let mut fixture = Fixture::new();
    let east = fixture
        .login(true, SessionLocation::Entity("EAST"))
        .unwrap();
    assert_eq!(east.location.entity(), Some("EAST"));
    let top = fixture.login(true, SessionLocation::TopLevel).unwrap();
    assert_eq!(top.location, Location::TopLevel);
    assert_ne!(east.session_id, top.session_id);
}

#[test]
fn login_straight_into_entity() {
    let mut fixture = Fixture::new();
    let session = fixture
        .run(demo_sender(), |client, buffers, gateway| {
            let login = demo_login(Some("WEST"));
            client.get_session(
                gateway.https_url(),
                Authentication::Login(login),
                SessionLocation::Current,
                buffers,
            )
        })
        .unwrap();
    assert_eq!(session.location.entity(), Some("WEST"));
    let body = fixture.gateway.simulator.last_request_body().unwrap();
    assert!(
        body.contains("<password>demo-user-pass</password><locationid>WEST</locationid></login>")
    );
}

#[test]
fn switch_entity_from_session_and_back() {
    let mut fixture = Fixture::new();
    let (top, east, back) = fixture.run(demo_sender(), |client, buffers, gateway| {
        let url = gateway.https_url();
        let top = client
            .get_session(
                url,
                Authentication::Login(demo_login(None)),
                SessionLocation::Current,
                buffers,
            )
            .unwrap();
        let east = client
            .get_session(
                &top.endpoint,
                Authentication::Session(top.session_id.expose()),
                SessionLocation::Entity("EAST"),
                buffers,
            )
            .unwrap();
        let back = client
            .get_session(
                &east.endpoint,
                Authentication::Session(east.session_id.expose()),
                SessionLocation::TopLevel,
                buffers,
            )
            .unwrap();
        (top, east, back)
    });
    assert_eq!(top.location, Location::TopLevel);
    assert_eq!(east.location.entity(), Some("EAST"));
    assert_ne!(east.session_id, top.session_id);
    assert_eq!(back.location, Location::TopLevel);
    let body = fixture.gateway.simulator.last_request_body().unwrap();
    assert!(body.contains("<getAPISession><locationid/></getAPISession>"));
    assert!(body.contains("<authentication><sessionid>"));
}

#[test]
fn wrong_sender_is_control_failure() {
    let mut fixture = Fixture::new();
    let sender = Sender {
        sender_id: "demo-sender",
        sender_password: "wrong",
    };
    let error = fixture
        .run(sender, |client, buffers, gateway| {
            client.get_session(
                gateway.https_url(),
                Authentication::Login(demo_login(None)),
                SessionLocation::Current,
                buffers,
            )
        })
        .unwrap_err();
    let error = gateway_error(error);
    assert_eq!(error.layer, Layer::Control);
    assert!(error.has_errorno("XL03000006"));
    assert_eq!(
        fixture.timer.delays,
        Vec::<u32>::new(),
        "gateway errors are not retried"
    );
}

#[test]
fn wrong_password_is_authentication_failure_with_401() {
    let mut fixture = Fixture::new();
    let error = fixture
        .run(demo_sender(), |client, buffers, gateway| {
            let login = Login {
                password: "wrong",
                ..demo_login(None)
            };
            client.get_session(
                gateway.https_url(),
                Authentication::Login(login),
                SessionLocation::Current,
                buffers,
            )
        })
        .unwrap_err();
    let error = gateway_error(error);
    assert_eq!(error.layer, Layer::Authentication);
    assert_eq!(error.http_status, Some(401));
    assert_eq!(
        error.error(0).unwrap().description2,
        "Sign-in information is incorrect"
    );
    assert!(
        !format!("{error}").contains("wrong"),
        "the password must not be echoed"
    );
}

#[test]
fn unknown_entity_is_result_failure_with_two_errors() {
    let mut fixture = Fixture::new();
    let error = gateway_error(
        fixture
            .login(true, SessionLocation::Entity("NORTH"))
            .unwrap_err(),
    );
    assert_eq!(error.layer, Layer::Result);
    assert_eq!(error.status, Status::Failure);
    assert_eq!(error.error_count(), 2);
    assert_eq!(error.error(0).unwrap().errorno, "BL34000061");
}

#[test]
fn restricted_user_cannot_reach_top_level() {
    let mut fixture = Fixture::new();
    let error = fixture
        .run(demo_sender(), |client, buffers, gateway| {
            let login = Login {
                user_id: RESTRICTED_USER_ID,
                company_id: DEMO_COMPANY_ID,
                password: RESTRICTED_USER_PASSWORD,
                location_id: None,
            };
            client.get_session(
                gateway.https_url(),
                Authentication::Login(login),
                SessionLocation::TopLevel,
                buffers,
            )
        })
        .unwrap_err();
    let error = gateway_error(error);
    assert_eq!(error.layer, Layer::Result);
    assert!(error.error_count() > 0);
}

#[test]
fn expired_session_is_authentication_failure() {
    let mut fixture = Fixture::new();
    let top = fixture.login(true, SessionLocation::Current).unwrap();
    fixture
        .gateway
        .simulator
        .advance_clock(Duration::from_secs(31 * 60));
    let error = fixture
        .run(demo_sender(), |client, buffers, _| {
            client.get_session(
                &top.endpoint,
                Authentication::Session(top.session_id.expose()),
                SessionLocation::Current,
                buffers,
            )
        })
        .unwrap_err();
    let error = gateway_error(error);
    assert_eq!(error.layer, Layer::Authentication);
    assert_eq!(error.http_status, Some(401));
}

#[test]
fn retry_after_cdn_errors_with_backoff() {
    for status in [502u16, 503, 504, 524] {
        let mut fixture = Fixture::new();
        fixture.gateway.simulator.push_fault(Fault::Html(status));
        fixture.gateway.simulator.push_fault(Fault::Html(status));
        let session = fixture.login(true, SessionLocation::Current).unwrap();
        assert_eq!(session.location, Location::TopLevel, "status {status}");
        assert_eq!(fixture.timer.delays, vec![1000, 2000], "status {status}");
        assert_eq!(
            fixture.gateway.simulator.requests_received(),
            3,
            "status {status}"
        );
    }
}

#[test]
fn retries_exhausted_returns_last_status() {
    let mut fixture = Fixture::new();
    for _ in 0..RetryPolicy::DEFAULT.max_attempts {
        fixture.gateway.simulator.push_fault(Fault::Html(503));
    }
    let error = fixture.login(true, SessionLocation::Current).unwrap_err();
    let ClientError::HttpStatus { status, body_start } = error else {
        panic!("expected an HTTP status error, got {error:?}");
    };
    assert_eq!(status, 503);
    // The page is larger than the body buffer, so none of it is kept.
    assert!(body_start.as_bytes().is_empty());
    assert!(format!("{body_start}").contains("not kept"));
    assert_eq!(fixture.timer.delays, vec![1000, 2000, 4000]);
    assert_eq!(fixture.gateway.simulator.requests_received(), 4);
}

#[test]
fn empty_500_is_not_retried() {
    let mut fixture = Fixture::new();
    fixture.gateway.simulator.push_fault(Fault::Empty(500));
    let error = fixture.login(true, SessionLocation::Current).unwrap_err();
    assert!(
        matches!(error, ClientError::HttpStatus { status: 500, .. }),
        "{error:?}"
    );
    assert!(fixture.timer.delays.is_empty());
}

#[test]
fn html_with_200_is_unexpected_content() {
    let mut fixture = Fixture::new();
    // Room for the whole page, so the client can see what it is.
    fixture.body = vec![0; 4 * DEFAULT_BODY_BUFFER];
    fixture.gateway.simulator.push_fault(Fault::Html(200));
    let error = fixture.login(true, SessionLocation::Current).unwrap_err();
    let ClientError::UnexpectedContent { status, body_start } = error else {
        panic!("expected unexpected content, got {error:?}");
    };
    assert_eq!(status, 200);
    assert!(format!("{body_start}").starts_with("<!DOCTYPE html>"));
}

#[test]
fn truncated_body_and_closed_connection_are_retried() {
    for fault in [Fault::Truncated, Fault::Close] {
        let mut fixture = Fixture::new();
        fixture.gateway.simulator.push_fault(fault.clone());
        let session = fixture.login(true, SessionLocation::Current);
        assert!(session.is_ok(), "{fault:?}: {session:?}");
        assert_eq!(fixture.timer.delays, vec![1000], "{fault:?}");
    }
}

#[test]
fn chunked_bodies_split_anywhere() {
    let mut fixture = Fixture::new();
    for seed in 0..8 {
        fixture
            .gateway
            .simulator
            .push_fault(Fault::Chunked { seed });
        let session = fixture
            .login(seed % 2 == 0, SessionLocation::Entity("WEST"))
            .unwrap();
        assert_eq!(session.location.entity(), Some("WEST"), "seed {seed}");
    }
}

#[test]
fn oversized_headers_fail_with_head_limit() {
    let mut fixture = Fixture::new();
    fixture
        .gateway
        .simulator
        .push_fault(Fault::OversizedHeaders(DEFAULT_HEAD_BUFFER * 2));
    let error = fixture.login(true, SessionLocation::Current).unwrap_err();
    assert!(
        matches!(
            error,
            ClientError::Http(HttpError::HeadTooLarge {
                capacity: DEFAULT_HEAD_BUFFER
            })
        ),
        "{error:?}"
    );
}

#[test]
fn small_body_buffer_fails_with_body_limit() {
    let mut fixture = Fixture::new();
    fixture.body = vec![0; 256];
    let error = fixture.login(true, SessionLocation::Current).unwrap_err();
    assert!(
        matches!(
            error,
            ClientError::Http(HttpError::BodyTooLarge { capacity: 256, .. })
        ),
        "{error:?}"
    );
}

#[test]
fn slow_response_times_out_then_retries() {
    let mut fixture = Fixture::new();
    fixture
        .gateway
        .simulator
        .push_fault(Fault::Delay(Duration::from_secs(3)));

    let origins = fixture.gateway.allowed_origins();
    let mut config = Config::new(demo_sender());
    config.allowed_origins = &origins;
    let transport = StdTransport::builder()
        .use_bundled_roots(false)
        .add_root_pem(fixture.gateway.simulator.ca_pem().as_bytes())
        .unwrap()
        .read_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let mut client = Client::new(
        transport,
        &mut fixture.timer,
        SequentialControlIds::new("slow"),
        config,
    );
    let mut buffers = Buffers {
        head: &mut fixture.head,
        body: &mut fixture.body,
    };

    let session = client.get_session(
        fixture.gateway.https_url(),
        Authentication::Login(demo_login(None)),
        SessionLocation::Current,
        &mut buffers,
    );
    assert!(session.is_ok(), "{session:?}");
    drop(client);
    assert_eq!(fixture.timer.delays, vec![1000]);
}

#[test]
fn keep_alive_reuses_one_connection() {
    let mut fixture = Fixture::new();
    fixture.run(demo_sender(), |client, buffers, gateway| {
        for _ in 0..3 {
            client
                .get_session(
                    gateway.https_url(),
                    Authentication::Login(demo_login(None)),
                    SessionLocation::Current,
                    buffers,
                )
                .unwrap();
        }
    });
    assert_eq!(fixture.gateway.simulator.requests_received(), 3);
    assert_eq!(fixture.gateway.simulator.connections_accepted(), 1);
}

#[test]
fn requested_endpoint_must_be_allowed() {
    let mut fixture = Fixture::new();
    let error = fixture
        .run(demo_sender(), |client, buffers, _| {
            client.get_session(
                "https://127.0.0.1:9/ia/xml/xmlgw.phtml",
                Authentication::Login(demo_login(None)),
                SessionLocation::Current,
                buffers,
            )
        })
        .unwrap_err();
    assert!(
        matches!(
            error,
            ClientError::Endpoint {
                role: EndpointRole::Requested,
                error: EndpointError::HostNotAllowed
            }
        ),
        "{error:?}"
    );
    assert_eq!(fixture.gateway.simulator.requests_received(), 0);
}

#[test]
fn returned_endpoint_must_pass_the_rule() {
    // The simulator listens on 127.0.0.1 but returns an endpoint on
    // `localhost`, which the allow-list below does not name: the session
    // must be refused. Every name here resolves to loopback.
    let options = Options {
        endpoint_host: Some("localhost".into()),
        https_port: None,
        ..Options::default()
    };
    let mut fixture = Fixture::with(SimConfig::demo(), options);

    let addr = fixture.gateway.simulator.http_addr().unwrap();
    let origins = [AllowedOrigin {
        security: Security::Plain,
        host: "127.0.0.1",
        port: addr.port(),
    }];
    let mut config = Config::new(demo_sender());
    config.allowed_origins = &origins;
    let transport = fixture.gateway.transport().unwrap();
    let mut client = Client::new(
        transport,
        &mut fixture.timer,
        SequentialControlIds::new("ep"),
        config,
    );
    let mut buffers = Buffers {
        head: &mut fixture.head,
        body: &mut fixture.body,
    };

    let url = format!("http://127.0.0.1:{}/ia/xml/xmlgw.phtml", addr.port());
    let error = client
        .get_session(
            &url,
            Authentication::Login(demo_login(None)),
            SessionLocation::Current,
            &mut buffers,
        )
        .unwrap_err();
    assert!(
        matches!(
            error,
            ClientError::Endpoint {
                role: EndpointRole::Returned,
                error: EndpointError::NotHttps
            }
        ),
        "{error:?}"
    );
}

#[test]
fn untrusted_certificate_fails_to_connect() {
    let mut fixture = Fixture::new();
    let origins = fixture.gateway.allowed_origins();
    let mut config = Config::new(demo_sender());
    config.allowed_origins = &origins;
    // Bundled public roots only: the simulator's own CA is not trusted.
    let transport = StdTransport::new().unwrap();
    let mut client = Client::new(
        transport,
        &mut fixture.timer,
        SequentialControlIds::new("tls"),
        config,
    );
    let mut buffers = Buffers {
        head: &mut fixture.head,
        body: &mut fixture.body,
    };
    let error = client
        .get_session(
            fixture.gateway.https_url(),
            Authentication::Login(demo_login(None)),
            SessionLocation::Current,
            &mut buffers,
        )
        .unwrap_err();
    let ClientError::Connect(error) = error else {
        panic!("expected a connect error, got {error:?}");
    };
    assert!(error.is_certificate_error(), "{error}");
    assert!(
        fixture.timer.delays.is_empty(),
        "certificate failures are not retried"
    );
}

/// A transport that records every request it sends, split at each flush,
/// around the real std transport.
struct RecordingTransport {
    inner: StdTransport,
    requests: std::rc::Rc<std::cell::RefCell<Vec<Vec<u8>>>>,
}

struct RecordingConnection {
    inner: intacct_transport_std::StdConnection,
    pending: Vec<u8>,
    requests: std::rc::Rc<std::cell::RefCell<Vec<Vec<u8>>>>,
}

impl intacct_core::transport::Transport for RecordingTransport {
    type Connection = RecordingConnection;
    type Error = TransportError;

    fn connect(
        &mut self,
        target: intacct_core::transport::Target<'_>,
    ) -> Result<Self::Connection, Self::Error> {
        Ok(RecordingConnection {
            inner: self.inner.connect(target)?,
            pending: Vec::new(),
            requests: self.requests.clone(),
        })
    }
}

impl embedded_io::ErrorType for RecordingConnection {
    type Error = std::io::Error;
}

impl embedded_io::Read for RecordingConnection {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        embedded_io::Read::read(&mut self.inner, buf)
    }
}

impl embedded_io::Write for RecordingConnection {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let n = embedded_io::Write::write(&mut self.inner, buf)?;
        self.pending.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        self.requests
            .borrow_mut()
            .push(std::mem::take(&mut self.pending));
        embedded_io::Write::flush(&mut self.inner)
    }
}

#[test]
fn retries_send_identical_bytes() {
    let mut fixture = Fixture::new();
    fixture.gateway.simulator.push_fault(Fault::Html(502));
    fixture.gateway.simulator.push_fault(Fault::Close);
    let requests = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let transport = RecordingTransport {
        inner: fixture.gateway.transport().unwrap(),
        requests: requests.clone(),
    };
    let origins = fixture.gateway.allowed_origins();
    let mut config = Config::new(demo_sender());
    config.allowed_origins = &origins;
    let mut client = Client::new(
        transport,
        &mut fixture.timer,
        SequentialControlIds::new("same"),
        config,
    );
    let mut buffers = Buffers {
        head: &mut fixture.head,
        body: &mut fixture.body,
    };
    client
        .get_session(
            fixture.gateway.https_url(),
            Authentication::Login(demo_login(None)),
            SessionLocation::Current,
            &mut buffers,
        )
        .unwrap();
    drop(client);

    let requests = requests.borrow();
    assert_eq!(requests.len(), 3);
    assert!(requests[0].starts_with(b"POST /ia/xml/xmlgw.phtml HTTP/1.1\r\n"));
    assert_eq!(requests[0], requests[1]);
    assert_eq!(requests[1], requests[2]);
    let text = String::from_utf8_lossy(&requests[0]);
    assert!(text.contains("<controlid>same-1</controlid>"));
    assert!(text.contains("Content-Type: application/xml"));
}
