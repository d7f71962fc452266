//! End-to-end tests of the session manager and session-authenticated calls
//! against the simulator, over real TCP and TLS on loopback.
//!
//! A fake clock drives renewal: the test moves the client's clock and the
//! simulator's clock forward together, so both sides agree on how much
//! time passed without anyone waiting.

// The client's error contains the gateway's error texts inline (there is no
// heap in the core), so results that carry it are large by design.
#![allow(clippy::result_large_err)]

use intacct_core::call::{CallResult, ReadByQuery, from_fn};
use intacct_core::client::{
    Buffers, Client, ClientError, Config, DEFAULT_BODY_BUFFER, DEFAULT_HEAD_BUFFER, Timer,
};
use intacct_core::manager::{ManagerError, RenewalPolicy, SessionManager, Stats};
use intacct_core::request::{Login, SequentialControlIds};
use intacct_core::response::{Layer, Location, Status};
use intacct_core::session::{Clock, Session};
use intacct_e2e::{LocalGateway, demo_login, demo_sender};
use intacct_simulator::{
    DEMO_COMPANY_ID, DEMO_ENTITY_EAST, DEMO_ENTITY_EAST_NAME, DEMO_ENTITY_WEST,
    DEMO_ENTITY_WEST_NAME, Fault, RESTRICTED_USER_ID, RESTRICTED_USER_PASSWORD, codes,
};
use intacct_transport_std::StdTransport;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);
const LOCATIONS: ReadByQuery<'static> = ReadByQuery::new("LOCATION");

/// A clock that moves only when the test advances it. Waits are recorded,
/// not slept, so retries with backoff cost no time.
#[derive(Clone, Default)]
struct FakeTimer {
    now_ms: Rc<Cell<u64>>,
    delays: Rc<RefCell<Vec<u32>>>,
}

impl Clock for FakeTimer {
    fn now_ms(&self) -> u64 {
        self.now_ms.get()
    }
}

impl Timer for FakeTimer {
    fn delay_ms(&mut self, ms: u32) {
        self.delays.borrow_mut().push(ms);
    }
}

#[derive(Debug, Clone, Copy)]
enum Listener {
    Tcp,
    Tls,
}

const LISTENERS: [Listener; 2] = [Listener::Tcp, Listener::Tls];

/// The simulator and the clock the client shares with the test.
struct Env {
    gateway: LocalGateway,
    timer: FakeTimer,
    listener: Listener,
}

impl Env {
    fn url(&self) -> &str {
        match self.listener {
            Listener::Tcp => self.gateway.http_url(),
            Listener::Tls => self.gateway.https_url(),
        }
    }

    /// Moves the client's clock and the simulator's clock forward.
    fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap();
        self.timer.now_ms.set(self.timer.now_ms.get() + ms);
        self.gateway.simulator.advance_clock(by);
    }

    /// HTTP requests the simulator has received so far.
    fn requests(&self) -> u64 {
        self.gateway.simulator.requests_received()
    }
}

type TestClient<'a> = Client<'a, StdTransport, FakeTimer, SequentialControlIds<'static>>;
type TestManager<'a> = SessionManager<'a, StdTransport, FakeTimer, SequentialControlIds<'static>>;

struct Fixture {
    env: Env,
    head: Vec<u8>,
    body: Vec<u8>,
}

impl Fixture {
    fn new(listener: Listener) -> Self {
        Self {
            env: Env {
                gateway: LocalGateway::demo().expect("simulator starts"),
                timer: FakeTimer::default(),
                listener,
            },
            head: vec![0; DEFAULT_HEAD_BUFFER],
            body: vec![0; DEFAULT_BODY_BUFFER],
        }
    }

    /// Runs `f` with a client allowed to reach this simulator only.
    fn with_client<R>(&mut self, f: impl FnOnce(TestClient<'_>, &mut Buffers<'_>, &Env) -> R) -> R {
        let env = &self.env;
        let origins = env.gateway.allowed_origins();
        let mut config = Config::new(demo_sender());
        config.allowed_origins = &origins;
        let transport = env.gateway.transport().expect("transport builds");
        let client = Client::new(
            transport,
            env.timer.clone(),
            SequentialControlIds::new("e2e"),
            config,
        );
        let mut buffers = Buffers {
            head: &mut self.head,
            body: &mut self.body,
        };
        f(client, &mut buffers, env)
    }

    /// Runs `f` with a manager that logs in with `login`.
    fn with_manager<R>(
        &mut self,
        login: Login<'_>,
        f: impl FnOnce(&mut TestManager<'_>, &mut Buffers<'_>, &Env) -> R,
    ) -> R {
        self.with_client(|client, buffers, env| {
            let mut manager = SessionManager::new(client, env.url(), login, RenewalPolicy::DEFAULT);
            f(&mut manager, buffers, env)
        })
    }
}

fn restricted_login() -> Login<'static> {
    Login {
        user_id: RESTRICTED_USER_ID,
        company_id: DEMO_COMPANY_ID,
        password: RESTRICTED_USER_PASSWORD,
        location_id: None,
    }
}

fn session_id(session: &Session) -> String {
    session.session_id.expose().to_owned()
}

fn current_id(manager: &TestManager<'_>) -> String {
    session_id(manager.current().expect("a session is cached"))
}

/// The `LOCATIONID` of each record of a `readByQuery` on `LOCATION`.
fn location_ids(result: &CallResult<'_>) -> Vec<String> {
    let data = result.data.expect("readByQuery returns data");
    data.records()
        .map(|record| record.field("LOCATIONID").expect("LOCATIONID").to_string())
        .collect()
}

/// The `locationid` of the response's `authentication` element.
fn authenticated_location(result: &CallResult<'_>) -> String {
    let authentication = result.authentication.expect("authentication");
    authentication.location_id.unwrap_or_default().to_string()
}

fn entity(id: &str) -> Location {
    Location::Entity(id.try_into().unwrap())
}

#[test]
fn manager_logs_in_once_and_reuses_session() {
    for listener in LISTENERS {
        Fixture::new(listener).with_manager(demo_login(None), |manager, buffers, env| {
            let result = manager.call(LOCATIONS, buffers).unwrap();
            assert!(result.is_success(), "{listener:?}");
            assert_eq!(result.status, Status::Success);
            assert_eq!(location_ids(&result), [DEMO_ENTITY_EAST, DEMO_ENTITY_WEST]);
            let data = result.data.unwrap();
            assert_eq!(data.count(), Ok(Some(2)));
            assert_eq!(data.num_remaining(), Ok(Some(0)));
            let names: Vec<String> = data
                .records()
                .map(|record| record.field("NAME").unwrap().to_string())
                .collect();
            assert_eq!(names, [DEMO_ENTITY_EAST_NAME, DEMO_ENTITY_WEST_NAME]);
            assert_eq!(env.requests(), 2, "{listener:?}: login, then the call");

            let first_id = current_id(manager);
            for _ in 0..3 {
                env.advance(MINUTE);
                manager.call(LOCATIONS, buffers).unwrap();
            }
            let handed_out = session_id(manager.session(buffers).unwrap());
            assert_eq!(handed_out, first_id, "{listener:?}");
            assert_eq!(env.requests(), 5, "{listener:?}: no request to hand it out");
            assert_eq!(
                manager.stats(),
                Stats {
                    logins: 1,
                    ..Stats::default()
                }
            );
            let session = manager.current().unwrap();
            assert_eq!(session.location, Location::TopLevel);
            assert_eq!(session.endpoint.as_str(), env.url());
        });
    }
}

#[test]
fn manager_logs_in_straight_to_entity() {
    for listener in LISTENERS {
        let login = demo_login(Some(DEMO_ENTITY_WEST));
        Fixture::new(listener).with_manager(login, |manager, buffers, env| {
            let result = manager.call(LOCATIONS, buffers).unwrap();
            assert_eq!(authenticated_location(&result), DEMO_ENTITY_WEST);
            assert_eq!(env.requests(), 2, "{listener:?}: no switch needed");
            let session = manager.current().unwrap();
            assert_eq!(session.location, entity(DEMO_ENTITY_WEST), "{listener:?}");
            assert_eq!(manager.stats().switches, 0);
        });
    }
}

#[test]
fn manager_renews_before_projected_timeout() {
    for listener in LISTENERS {
        Fixture::new(listener).with_manager(demo_login(None), |manager, buffers, env| {
            manager.call(LOCATIONS, buffers).unwrap();
            let first_id = current_id(manager);

            // 3 minutes left: more than the 2-minute margin.
            env.advance(27 * MINUTE);
            let before = env.requests();
            manager.call(LOCATIONS, buffers).unwrap();
            assert_eq!(env.requests() - before, 1, "{listener:?}: no renewal yet");
            assert_eq!(manager.stats().renewals, 0);

            // 1 minute left after the call above slid the timeout.
            env.advance(29 * MINUTE);
            let timeout_before = manager.current().unwrap().projected_timeout().unwrap();
            let before = env.requests();
            manager.call(LOCATIONS, buffers).unwrap();
            assert_eq!(
                env.requests() - before,
                2,
                "{listener:?}: renewal, then the call"
            );
            assert_eq!(
                manager.stats(),
                Stats {
                    logins: 1,
                    renewals: 1,
                    ..Stats::default()
                }
            );
            assert_eq!(current_id(manager), first_id, "renewal keeps the session");
            let timeout_after = manager.current().unwrap().projected_timeout().unwrap();
            let moved_s = timeout_after - timeout_before;
            assert!(
                (29 * 60..=29 * 60 + 2).contains(&moved_s),
                "moved {moved_s} s"
            );
        });
    }
}

#[test]
fn manager_logs_in_after_projected_expiry() {
    for listener in LISTENERS {
        Fixture::new(listener).with_manager(demo_login(None), |manager, buffers, env| {
            manager.call(LOCATIONS, buffers).unwrap();
            let first_id = current_id(manager);

            env.advance(31 * MINUTE);
            let before = env.requests();
            manager.call(LOCATIONS, buffers).unwrap();
            assert_eq!(
                env.requests() - before,
                2,
                "{listener:?}: login, then the call; no renewal of a dead session"
            );
            assert_eq!(
                manager.stats(),
                Stats {
                    logins: 2,
                    ..Stats::default()
                }
            );
            assert_ne!(current_id(manager), first_id);
            assert_eq!(env.gateway.simulator.session_count(), 1);
        });
    }
}

#[test]
fn sliding_timeout_keeps_one_session() {
    for listener in LISTENERS {
        Fixture::new(listener).with_manager(demo_login(None), |manager, buffers, env| {
            manager.call(LOCATIONS, buffers).unwrap();
            let first_id = current_id(manager);
            let mut timeout = manager.current().unwrap().projected_timeout().unwrap();

            // Two hours of calls 20 minutes apart, with 30-minute sessions.
            for round in 1..=6 {
                env.advance(20 * MINUTE);
                manager.call(LOCATIONS, buffers).unwrap();
                let slid = manager.current().unwrap().projected_timeout().unwrap();
                assert!(slid >= timeout + 20 * 60, "{listener:?} round {round}");
                timeout = slid;
            }
            assert_eq!(current_id(manager), first_id, "{listener:?}");
            assert_eq!(
                manager.stats(),
                Stats {
                    logins: 1,
                    ..Stats::default()
                }
            );
            assert_eq!(env.requests(), 8, "login and 7 calls");
        });
    }
}

#[test]
fn invalidated_session_logs_in_and_retries_once() {
    for listener in LISTENERS {
        Fixture::new(listener).with_manager(demo_login(None), |manager, buffers, env| {
            manager.call(LOCATIONS, buffers).unwrap();
            let first_id = current_id(manager);

            env.gateway.simulator.expire_all_sessions();
            let before = env.requests();
            let result = manager.call(LOCATIONS, buffers).unwrap();
            assert!(result.is_success(), "{listener:?}");
            assert_eq!(
                env.requests() - before,
                3,
                "{listener:?}: rejected call, login, retried call"
            );
            assert_eq!(
                manager.stats(),
                Stats {
                    logins: 2,
                    rejections: 1,
                    ..Stats::default()
                }
            );
            assert_ne!(current_id(manager), first_id);
        });
    }
}

#[test]
fn session_only_manager_reports_rejection() {
    for listener in LISTENERS {
        Fixture::new(listener).with_client(|mut client, buffers, env| {
            let mut session = client
                .get_session(
                    env.url(),
                    intacct_core::request::Authentication::Login(demo_login(None)),
                    intacct_core::request::SessionLocation::Current,
                    buffers,
                )
                .unwrap();
            let direct = client.call(&mut session, LOCATIONS, buffers).unwrap();
            assert_eq!(location_ids(&direct), [DEMO_ENTITY_EAST, DEMO_ENTITY_WEST]);

            let mut manager = SessionManager::with_session(client, session, RenewalPolicy::DEFAULT);
            manager.call(LOCATIONS, buffers).unwrap();

            env.gateway.simulator.expire_all_sessions();
            let before = env.requests();
            let error = manager.call(LOCATIONS, buffers).unwrap_err();
            assert_eq!(
                env.requests() - before,
                1,
                "{listener:?}: reported, not retried"
            );
            assert!(error.is_authentication_failure(), "{error}");
            let gateway = error.gateway_error().unwrap();
            assert_eq!(gateway.layer, Layer::Authentication);
            assert_eq!(gateway.http_status, Some(401));
            assert!(gateway.has_errorno(codes::AUTHENTICATION_FAILED));

            let before = env.requests();
            let error = manager.call(LOCATIONS, buffers).unwrap_err();
            assert!(matches!(error, ManagerError::NoSession), "{error}");
            assert_eq!(env.requests(), before, "nothing sent without a session");
            assert_eq!(manager.stats().logins, 0);
        });
    }
}

#[test]
fn wrong_password_is_not_retried() {
    for listener in LISTENERS {
        let login = Login {
            password: "wrong",
            ..demo_login(None)
        };
        Fixture::new(listener).with_manager(login, |manager, buffers, env| {
            let error = manager.call(LOCATIONS, buffers).unwrap_err();
            assert!(error.is_authentication_failure(), "{error}");
            assert!(
                error
                    .gateway_error()
                    .unwrap()
                    .has_errorno(codes::AUTHENTICATION_FAILED)
            );
            assert_eq!(env.requests(), 1, "{listener:?}: one login, not retried");
            assert_eq!(manager.stats(), Stats::default());
            assert!(manager.current().is_none());
        });
    }
}

#[test]
fn switches_entity_and_back() {
    for listener in LISTENERS {
        Fixture::new(listener).with_manager(demo_login(None), |manager, buffers, env| {
            let top = manager.call(LOCATIONS, buffers).unwrap();
            assert_eq!(authenticated_location(&top), "");
            let top_id = current_id(manager);

            let east = manager.switch_to_entity(DEMO_ENTITY_EAST, buffers).unwrap();
            assert_eq!(east.location, entity(DEMO_ENTITY_EAST), "{listener:?}");
            let east_id = session_id(east);
            assert_ne!(east_id, top_id);
            let at_east = manager.call(LOCATIONS, buffers).unwrap();
            assert_eq!(authenticated_location(&at_east), DEMO_ENTITY_EAST);

            let back = manager.switch_to_top_level(buffers).unwrap();
            assert_eq!(back.location, Location::TopLevel, "{listener:?}");
            assert_ne!(session_id(back), east_id);
            let at_top = manager.call(LOCATIONS, buffers).unwrap();
            assert_eq!(authenticated_location(&at_top), "");

            assert_eq!(
                manager.stats(),
                Stats {
                    logins: 1,
                    switches: 2,
                    ..Stats::default()
                }
            );
            assert_eq!(env.requests(), 6, "login, 3 calls and 2 switches");
        });
    }
}

#[test]
fn relogin_returns_to_switched_entity() {
    for listener in LISTENERS {
        Fixture::new(listener).with_manager(demo_login(None), |manager, buffers, env| {
            manager.switch_to_entity(DEMO_ENTITY_WEST, buffers).unwrap();
            env.gateway.simulator.expire_all_sessions();

            let before = env.requests();
            let result = manager.call(LOCATIONS, buffers).unwrap();
            assert_eq!(authenticated_location(&result), DEMO_ENTITY_WEST);
            assert_eq!(
                env.requests() - before,
                3,
                "{listener:?}: rejected call, login straight to WEST, retried call"
            );
            let session = manager.current().unwrap();
            assert_eq!(session.location, entity(DEMO_ENTITY_WEST));

            // The same after an expiry the manager projects itself.
            env.advance(31 * MINUTE);
            let result = manager.call(LOCATIONS, buffers).unwrap();
            assert_eq!(authenticated_location(&result), DEMO_ENTITY_WEST);

            manager.switch_to_top_level(buffers).unwrap();
            env.advance(31 * MINUTE);
            let result = manager.call(LOCATIONS, buffers).unwrap();
            assert_eq!(authenticated_location(&result), "", "{listener:?}");
            assert_eq!(manager.current().unwrap().location, Location::TopLevel);
        });
    }
}

#[test]
fn restricted_user_gets_gateway_errors() {
    for listener in LISTENERS {
        Fixture::new(listener).with_manager(restricted_login(), |manager, buffers, env| {
            let result = manager.call(LOCATIONS, buffers).unwrap();
            assert_eq!(location_ids(&result), [DEMO_ENTITY_EAST]);
            let east_id = current_id(manager);
            assert_eq!(
                manager.current().unwrap().location,
                entity(DEMO_ENTITY_EAST)
            );

            let error = manager
                .switch_to_entity(DEMO_ENTITY_WEST, buffers)
                .unwrap_err();
            let gateway = error.gateway_error().expect("the gateway's error");
            assert_eq!(gateway.layer, Layer::Result, "{listener:?}");
            assert!(gateway.has_errorno(codes::ENTITY_DENIED), "{gateway}");

            let error = manager.switch_to_top_level(buffers).unwrap_err();
            let gateway = error.gateway_error().expect("the gateway's error");
            assert!(gateway.has_errorno(codes::TOP_LEVEL_DENIED), "{gateway}");
            assert!(!error.is_authentication_failure());

            assert_eq!(current_id(manager), east_id, "session unchanged");
            let before = env.requests();
            let result = manager.call(LOCATIONS, buffers).unwrap();
            assert_eq!(authenticated_location(&result), DEMO_ENTITY_EAST);
            assert_eq!(env.requests() - before, 1);
            assert_eq!(
                manager.stats(),
                Stats {
                    logins: 1,
                    ..Stats::default()
                }
            );
        });
    }
}

#[test]
fn function_failure_comes_back_as_result() {
    for listener in LISTENERS {
        Fixture::new(listener).with_manager(demo_login(None), |manager, buffers, env| {
            manager.call(LOCATIONS, buffers).unwrap();
            let timeout_before = manager.current().unwrap().projected_timeout().unwrap();

            env.advance(10 * MINUTE);
            let result = manager.call(ReadByQuery::new("VENDOR"), buffers).unwrap();
            assert_eq!(result.status, Status::Failure, "{listener:?}");
            assert!(result.data.is_none());
            let error = result.error().unwrap();
            assert_eq!(error.layer, Layer::Result);
            assert!(error.has_errorno(codes::QUERY_FAILED), "{error}");

            let timeout_after = manager.current().unwrap().projected_timeout().unwrap();
            assert!(
                timeout_after >= timeout_before + 10 * 60,
                "timeout still slid"
            );
            assert_eq!(manager.stats().rejections, 0);
        });
    }
}

#[test]
fn closure_function_is_escaped_end_to_end() {
    for listener in LISTENERS {
        Fixture::new(listener).with_manager(demo_login(None), |manager, buffers, env| {
            let query = "NAME = 'A&B' AND X < \"3\"";
            let function = from_fn("readByQuery", |w| {
                w.text_element("object", "LOCATION")?;
                w.text_element("fields", "LOCATIONID,NAME")?;
                w.text_element("query", query)?;
                w.text_element("pagesize", "10")
            });
            let result = manager.call(function, buffers).unwrap();
            assert!(result.is_success(), "{listener:?}");
            assert_eq!(location_ids(&result), [DEMO_ENTITY_EAST, DEMO_ENTITY_WEST]);
            let sent = env.gateway.simulator.last_request_body().unwrap();
            assert!(
                sent.contains("<query>NAME = &apos;A&amp;B&apos; AND X &lt; &quot;3&quot;</query>"),
                "{sent}"
            );
        });
    }
}

#[test]
fn transport_failure_keeps_session() {
    for listener in LISTENERS {
        Fixture::new(listener).with_manager(demo_login(None), |manager, buffers, env| {
            manager.call(LOCATIONS, buffers).unwrap();
            let first_id = current_id(manager);

            // Four attempts fail, and the first close on the kept-alive
            // connection is also retried at once as a stale connection:
            // five requests in all.
            for _ in 0..5 {
                env.gateway.simulator.push_fault(Fault::Close);
            }
            let error = manager.call(LOCATIONS, buffers).unwrap_err();
            assert_eq!(env.gateway.simulator.pending_faults(), 0, "{listener:?}");
            assert!(
                matches!(
                    error,
                    ManagerError::Client(ClientError::Http(_) | ClientError::Io { .. })
                ),
                "{listener:?}: {error}"
            );
            assert_eq!(*env.timer.delays.borrow(), [1000, 2000, 4000]);

            let result = manager.call(LOCATIONS, buffers).unwrap();
            assert!(result.is_success());
            assert_eq!(current_id(manager), first_id, "{listener:?}");
            assert_eq!(
                manager.stats(),
                Stats {
                    logins: 1,
                    ..Stats::default()
                }
            );
        });
    }
}
