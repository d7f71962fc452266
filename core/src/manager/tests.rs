//! Policy arithmetic, and the manager against a scripted gateway for the
//! faults the simulator does not produce: responses without
//! `sessiontimeout`, and a gateway that rejects every session.

use super::*;
use crate::call::ReadByQuery;
use crate::client::Config;
use crate::endpoint::AllowedOrigin;
use crate::request::{Sender, SequentialControlIds};
use crate::session::Clock;
use crate::transport::{Security, Target};
use std::cell::{Cell, RefCell};
use std::format;
use std::rc::Rc;
use std::string::{String, ToString};
use std::vec::Vec;

const URL: &str = "http://gw.test/ia/xml/xmlgw.phtml";
const ORIGINS: &[AllowedOrigin<'static>] = &[AllowedOrigin {
    security: Security::Plain,
    host: "gw.test",
    port: 80,
}];
/// 2026-01-01T00:00:00Z in Unix seconds.
const BASE_UNIX_S: i64 = 1_767_225_600;

fn lifetime(timestamp: i64, timeout: Option<i64>, received_at_ms: u64) -> Lifetime {
    Lifetime {
        session_timestamp: Some(timestamp),
        session_timeout: timeout,
        received_at_ms: Some(received_at_ms),
    }
}

#[test]
fn policy_projects_renewal_and_expiry() {
    let policy = RenewalPolicy::DEFAULT;
    let thirty_minutes = lifetime(0, Some(1800), 1_000);
    assert_eq!(policy.renewal(&thirty_minutes, 1_000), Renewal::NotDue);
    let margin_start = 1_000 + 1_800_000 - u64::from(DEFAULT_RENEWAL_MARGIN_MS);
    assert_eq!(
        policy.renewal(&thirty_minutes, margin_start - 1),
        Renewal::NotDue
    );
    assert_eq!(policy.renewal(&thirty_minutes, margin_start), Renewal::Due);
    assert_eq!(
        policy.renewal(&thirty_minutes, 1_000 + 1_799_999),
        Renewal::Due
    );
    assert_eq!(
        policy.renewal(&thirty_minutes, 1_000 + 1_800_000),
        Renewal::Expired
    );
}

#[test]
fn policy_caps_margin_at_half_duration() {
    let policy = RenewalPolicy::DEFAULT;
    // A 60 s session: the 120 s margin would renew before every call.
    let short = lifetime(0, Some(60), 0);
    assert_eq!(policy.renewal(&short, 29_999), Renewal::NotDue);
    assert_eq!(policy.renewal(&short, 30_000), Renewal::Due);
    let no_margin = RenewalPolicy {
        margin_ms: 0,
        ..RenewalPolicy::DEFAULT
    };
    assert_eq!(no_margin.renewal(&short, 59_999), Renewal::NotDue);
    assert_eq!(no_margin.renewal(&short, 60_000), Renewal::Expired);
}

#[test]
fn policy_unknown_lifetime_uses_interval() {
    let policy = RenewalPolicy {
        unknown_lifetime_interval_ms: 5_000,
        ..RenewalPolicy::DEFAULT
    };
    for unknown in [
        lifetime(100, None, 1_000),
        lifetime(100, Some(100), 1_000),
        lifetime(100, Some(50), 1_000),
    ] {
        assert_eq!(
            policy.renewal(&unknown, 5_999),
            Renewal::NotDue,
            "{unknown:?}"
        );
        assert_eq!(policy.renewal(&unknown, 6_000), Renewal::Due, "{unknown:?}");
    }
    let never_received = Lifetime::default();
    assert_eq!(policy.renewal(&never_received, 0), Renewal::Due);
}

/// A gateway that builds each response from the request text and records
/// the requests it received.
#[derive(Default)]
struct Script {
    now_ms: Rc<Cell<u64>>,
    state_timeout: bool,
    reject_sessions: bool,
    reject_logins: bool,
    sessions_created: u32,
    /// `login getAPISession`, `session readByQuery`, and so on.
    requests: Vec<String>,
}

impl Script {
    fn respond(&mut self, request: &str) -> (u16, String) {
        let control_id = between(request, "<controlid>", "</controlid>");
        let function_control_id = between(request, "<function controlid=\"", "\"");
        let by_login = request.contains("<login>");
        let function = if request.contains("<getAPISession") {
            "getAPISession"
        } else {
            "readByQuery"
        };
        let authentication = if by_login { "login" } else { "session" };
        self.requests.push(format!("{authentication} {function}"));

        let rejected = if by_login {
            self.reject_logins
        } else {
            self.reject_sessions
        };
        if rejected {
            let body = format!(
                "<response><control><status>success</status><controlid>{control_id}</controlid>\
                 </control><operation><authentication><status>failure</status></authentication>\
                 <errormessage><error><errorno>XL03000006</errorno>\
                 <description2>Invalid session</description2></error></errormessage>\
                 </operation></response>"
            );
            return (401, body);
        }

        let session_id = if by_login {
            self.sessions_created += 1;
            format!("session-{}-abcdefghij..", self.sessions_created)
        } else {
            String::from(between(request, "<sessionid>", "</sessionid>"))
        };
        let now_s = BASE_UNIX_S + i64::try_from(self.now_ms.get() / 1000).unwrap();
        let timestamps = if self.state_timeout {
            format!(
                "<sessiontimestamp>{}</sessiontimestamp><sessiontimeout>{}</sessiontimeout>",
                iso(now_s),
                iso(now_s + 1800)
            )
        } else {
            format!("<sessiontimestamp>{}</sessiontimestamp>", iso(now_s))
        };
        let data = if function == "getAPISession" {
            format!(
                "<data><api><sessionid>{session_id}</sessionid><endpoint>{URL}</endpoint>\
                 <locationid></locationid></api></data>"
            )
        } else {
            String::from("<data count=\"0\"/>")
        };
        let body = format!(
            "<response><control><status>success</status><controlid>{control_id}</controlid>\
             </control><operation><authentication><status>success</status>{timestamps}\
             </authentication><result><status>success</status><function>{function}</function>\
             <controlid>{function_control_id}</controlid>{data}</result></operation></response>"
        );
        (200, body)
    }
}

fn iso(unix_s: i64) -> String {
    let utc = format!("{}", crate::time::Utc(unix_s));
    format!("{}+00:00", utc.trim_end_matches('Z'))
}

fn between<'t>(text: &'t str, start: &str, end: &str) -> &'t str {
    let after = &text[text.find(start).unwrap() + start.len()..];
    &after[..after.find(end).unwrap()]
}

struct ScriptTransport(Rc<RefCell<Script>>);

/// The scripted transport never fails to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NeverFails;

impl core::fmt::Display for NeverFails {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("unreachable")
    }
}

impl Transport for ScriptTransport {
    type Connection = ScriptConnection;
    type Error = NeverFails;

    fn connect(&mut self, target: Target<'_>) -> Result<ScriptConnection, NeverFails> {
        assert_eq!(target.host, "gw.test");
        Ok(ScriptConnection {
            script: Rc::clone(&self.0),
            request: Vec::new(),
            response: Vec::new(),
            served: 0,
        })
    }
}

/// One request and one response, then the connection closes.
struct ScriptConnection {
    script: Rc<RefCell<Script>>,
    request: Vec<u8>,
    response: Vec<u8>,
    served: usize,
}

impl embedded_io::ErrorType for ScriptConnection {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Write for ScriptConnection {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.request.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl embedded_io::Read for ScriptConnection {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        if self.response.is_empty() {
            let request = String::from_utf8(self.request.clone()).unwrap();
            let (status, body) = self.script.borrow_mut().respond(&request);
            self.response = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes();
        }
        let rest = &self.response[self.served..];
        let len = rest.len().min(buf.len());
        buf[..len].copy_from_slice(&rest[..len]);
        self.served += len;
        Ok(len)
    }
}

struct TestTimer(Rc<Cell<u64>>);

impl Clock for TestTimer {
    fn now_ms(&self) -> u64 {
        self.0.get()
    }
}

impl Timer for TestTimer {
    fn delay_ms(&mut self, _ms: u32) {}
}

type TestClient = Client<'static, ScriptTransport, TestTimer, SequentialControlIds<'static>>;

struct Harness {
    script: Rc<RefCell<Script>>,
    now_ms: Rc<Cell<u64>>,
    head: Vec<u8>,
    body: Vec<u8>,
}

impl Harness {
    fn new(state_timeout: bool) -> Self {
        let now_ms = Rc::new(Cell::new(0));
        let script = Script {
            now_ms: Rc::clone(&now_ms),
            state_timeout,
            ..Script::default()
        };
        Self {
            script: Rc::new(RefCell::new(script)),
            now_ms,
            head: std::vec![0; 1024],
            body: std::vec![0; 4096],
        }
    }

    fn client(&self) -> TestClient {
        let mut config = Config::new(Sender {
            sender_id: "sender",
            sender_password: "sender-pass",
        });
        config.allowed_origins = ORIGINS;
        config.retry = crate::client::RetryPolicy::NONE;
        Client::new(
            ScriptTransport(Rc::clone(&self.script)),
            TestTimer(Rc::clone(&self.now_ms)),
            SequentialControlIds::new("t"),
            config,
        )
    }

    fn manager(
        &self,
    ) -> SessionManager<'static, ScriptTransport, TestTimer, SequentialControlIds<'static>> {
        let login = Login {
            user_id: "user",
            company_id: "company",
            password: "user-pass",
            location_id: None,
        };
        SessionManager::new(self.client(), URL, login, RenewalPolicy::DEFAULT)
    }

    fn buffers(&mut self) -> Buffers<'_> {
        Buffers {
            head: &mut self.head,
            body: &mut self.body,
        }
    }

    fn advance_ms(&self, ms: u64) {
        self.now_ms.set(self.now_ms.get() + ms);
    }

    /// Returns and clears the requests received since the last call.
    fn take_requests(&self) -> Vec<String> {
        core::mem::take(&mut self.script.borrow_mut().requests)
    }
}

const QUERY: ReadByQuery<'static> = ReadByQuery::new("LOCATION");

#[test]
fn unknown_lifetime_renews_on_interval() {
    let mut harness = Harness::new(false);
    let mut manager = harness.manager();

    let succeeded = manager
        .call(QUERY, &mut harness.buffers())
        .unwrap()
        .is_success();
    assert!(succeeded);
    assert_eq!(
        harness.take_requests(),
        ["login getAPISession", "session readByQuery"]
    );
    let session = manager.current().unwrap();
    assert_eq!(session.lifetime.session_timeout, None, "lifetime unknown");

    harness.advance_ms(u64::from(DEFAULT_UNKNOWN_LIFETIME_INTERVAL_MS) - 1);
    manager.call(QUERY, &mut harness.buffers()).unwrap();
    assert_eq!(harness.take_requests(), ["session readByQuery"]);

    harness.advance_ms(u64::from(DEFAULT_UNKNOWN_LIFETIME_INTERVAL_MS));
    manager.call(QUERY, &mut harness.buffers()).unwrap();
    assert_eq!(
        harness.take_requests(),
        ["session getAPISession", "session readByQuery"]
    );
    assert_eq!(
        manager.stats(),
        Stats {
            logins: 1,
            renewals: 1,
            switches: 0,
            rejections: 0
        }
    );
}

#[test]
fn rejected_call_logs_in_once_then_fails() {
    let mut harness = Harness::new(true);
    let mut manager = harness.manager();
    manager.call(QUERY, &mut harness.buffers()).unwrap();
    harness.take_requests();

    harness.script.borrow_mut().reject_sessions = true;
    let error = manager.call(QUERY, &mut harness.buffers()).unwrap_err();
    assert!(error.is_authentication_failure(), "{error}");
    assert!(error.gateway_error().unwrap().has_errorno("XL03000006"));
    assert_eq!(
        harness.take_requests(),
        [
            "session readByQuery",
            "login getAPISession",
            "session readByQuery"
        ],
        "one login and one retry, no loop"
    );
    assert_eq!(manager.stats().logins, 2);
    assert_eq!(manager.stats().rejections, 2);
    assert!(manager.current().is_none());
}

#[test]
fn fresh_session_rejection_is_not_retried() {
    let mut harness = Harness::new(true);
    harness.script.borrow_mut().reject_sessions = true;
    let mut manager = harness.manager();
    let error = manager.call(QUERY, &mut harness.buffers()).unwrap_err();
    assert!(error.is_authentication_failure());
    assert_eq!(
        harness.take_requests(),
        ["login getAPISession", "session readByQuery"]
    );
}

#[test]
fn login_failure_is_not_retried() {
    let mut harness = Harness::new(true);
    harness.script.borrow_mut().reject_logins = true;
    let mut manager = harness.manager();
    let error = manager.call(QUERY, &mut harness.buffers()).unwrap_err();
    assert!(error.is_authentication_failure());
    assert_eq!(harness.take_requests(), ["login getAPISession"]);
    assert_eq!(manager.stats(), Stats::default());
}

#[test]
fn session_only_manager_reports_rejection() {
    let mut harness = Harness::new(true);
    let mut manager = SessionManager::from_session_id(
        harness.client(),
        "kept-across-reboot..",
        URL,
        RenewalPolicy::DEFAULT,
    )
    .unwrap();
    manager.call(QUERY, &mut harness.buffers()).unwrap();
    assert_eq!(harness.take_requests(), ["session readByQuery"]);
    let session = manager.current().unwrap();
    assert_eq!(
        session.lifetime.duration_s(),
        Some(1800),
        "learned from the response"
    );

    harness.script.borrow_mut().reject_sessions = true;
    let error = manager.call(QUERY, &mut harness.buffers()).unwrap_err();
    assert!(error.is_authentication_failure());
    assert_eq!(harness.take_requests(), ["session readByQuery"]);

    let error = manager.call(QUERY, &mut harness.buffers()).unwrap_err();
    assert_eq!(error, ManagerError::NoSession);
    assert!(harness.take_requests().is_empty());
    assert!(error.to_string().contains("set_session"));
}

#[test]
fn session_only_manager_asks_gateway_after_projected_expiry() {
    let mut harness = Harness::new(true);
    let mut manager = SessionManager::from_session_id(
        harness.client(),
        "kept-across-reboot..",
        URL,
        RenewalPolicy::DEFAULT,
    )
    .unwrap();
    manager.call(QUERY, &mut harness.buffers()).unwrap();
    harness.advance_ms(1_800_000);
    manager.call(QUERY, &mut harness.buffers()).unwrap();
    assert_eq!(
        harness.take_requests(),
        [
            "session readByQuery",
            "session getAPISession",
            "session readByQuery"
        ]
    );
}

#[test]
fn switch_rejects_long_entity_id() {
    let mut harness = Harness::new(true);
    let mut manager = harness.manager();
    let long_id = "E".repeat(LOCATION_ID_CAPACITY + 1);
    let error = manager
        .switch_to_entity(&long_id, &mut harness.buffers())
        .unwrap_err();
    assert_eq!(
        error,
        ManagerError::Capacity(CapacityError {
            field: "locationid",
            capacity: LOCATION_ID_CAPACITY
        })
    );
    assert!(harness.take_requests().is_empty());
}

#[test]
fn from_session_id_checks_capacities() {
    let harness = Harness::new(true);
    let long_endpoint = format!("{URL}?{}", "x".repeat(ENDPOINT_CAPACITY));
    let error = SessionManager::from_session_id(
        harness.client(),
        "id",
        &long_endpoint,
        RenewalPolicy::DEFAULT,
    )
    .err()
    .unwrap();
    assert_eq!(error.field, "endpoint");
    let long_id = "s".repeat(crate::response::SESSION_ID_CAPACITY + 1);
    let error =
        SessionManager::from_session_id(harness.client(), &long_id, URL, RenewalPolicy::DEFAULT)
            .err()
            .unwrap();
    assert_eq!(error.field, "sessionid");
}
