//! Holds one Intacct API session across many calls, as a gateway device
//! that posts data every few minutes does, and prints each login, renewal
//! and entity switch.
//!
//! Without credentials (no `INTACCT_*` variables and no
//! `~/.intacct/credentials.ini`) it runs against the built-in simulator on
//! loopback and moves the simulated clock forward between calls instead of
//! waiting, so hours of traffic take about a second. With credentials it
//! calls the real gateway and waits for real.
//!
//! ```text
//! cargo run --example keep_alive -- [--calls N] [--interval SECONDS] [--entity ID]
//! ```

use intacct_core::call::{CallResult, ReadByQuery};
use intacct_core::client::{
    Buffers, Client, Config, DEFAULT_BODY_BUFFER, DEFAULT_HEAD_BUFFER, Timer,
};
use intacct_core::endpoint::{AllowedOrigin, DEFAULT_ENDPOINT};
use intacct_core::manager::{RenewalPolicy, SessionManager, Stats};
use intacct_core::request::{Login, Sender};
use intacct_core::session::Clock;
use intacct_e2e::{LocalGateway, demo_login, demo_sender};
use intacct_transport_std::{Credentials, StdTimer, StdTransport, UuidControlIds};
use std::cell::Cell;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

const USAGE: &str = "\
Usage: keep_alive [--calls N] [--interval SECONDS] [--entity ID]

Calls readByQuery on LOCATION N times with one API session, switches to an
entity a third of the way through and back to the top level two thirds of
the way, and prints every login, renewal and switch.

  --calls N           calls to make (default 12)
  --interval SECONDS  time between calls (default 1740, 29 minutes)
  --entity ID         entity to switch to (default: the first one listed)
  --help              print this help

With 30-minute sessions, 29 minutes between calls leaves less than the
2-minute renewal margin, so the session is renewed before each call. With
--interval 600 the sliding timeout keeps it alive without renewals, and
with --interval 1860 it expires between calls and the manager logs in again.

Without INTACCT_* variables or ~/.intacct/credentials.ini, the built-in
simulator is started on 127.0.0.1 and its clock is moved forward instead of
waiting. Set RUST_LOG=info to see the manager's own log lines.";

const LOCATIONS: ReadByQuery<'static> = ReadByQuery::new("LOCATION");

struct Args {
    calls: u32,
    interval: Duration,
    entity: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        calls: 12,
        interval: Duration::from_secs(29 * 60),
        entity: None,
    };
    let mut iter = std::env::args().skip(1);
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--calls" => {
                let value = iter.next().ok_or("--calls needs a number")?;
                args.calls = value
                    .parse()
                    .map_err(|_| format!("--calls {value:?} is not a whole number"))?;
            }
            "--interval" => {
                let value = iter.next().ok_or("--interval needs a number of seconds")?;
                let seconds: u64 = value.parse().map_err(|_| {
                    format!("--interval {value:?} is not a whole number of seconds")
                })?;
                args.interval = Duration::from_secs(seconds);
            }
            "--entity" => {
                let id = iter.next().ok_or("--entity needs an entity id")?;
                if id.is_empty() {
                    return Err("--entity needs a non-empty entity id".into());
                }
                args.entity = Some(id);
            }
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) if message.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let outcome = match Credentials::load() {
        Ok(Some(credentials)) => real_gateway(&credentials, &args),
        Ok(None) => simulator(&args),
        Err(error) => Err(format!("credentials: {error}")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The simulator run's clock: real time plus every step the simulator's
/// clock was moved forward.
#[derive(Clone)]
struct SteppedTimer {
    start: Instant,
    skipped_ms: Rc<Cell<u64>>,
}

impl Clock for SteppedTimer {
    fn now_ms(&self) -> u64 {
        let real_ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        real_ms.saturating_add(self.skipped_ms.get())
    }
}

impl Timer for SteppedTimer {
    fn delay_ms(&mut self, ms: u32) {
        std::thread::sleep(Duration::from_millis(u64::from(ms)));
    }
}

fn simulator(args: &Args) -> Result<(), String> {
    let gateway = LocalGateway::demo().map_err(|e| format!("starting the simulator: {e}"))?;
    println!(
        "No credentials configured: using the built-in simulator at {}",
        gateway.https_url()
    );
    let origins: Vec<AllowedOrigin<'_>> = gateway.allowed_origins();
    let mut config = Config::new(demo_sender());
    config.allowed_origins = &origins;
    let timer = SteppedTimer {
        start: Instant::now(),
        skipped_ms: Rc::new(Cell::new(0)),
    };
    let skipped_ms = Rc::clone(&timer.skipped_ms);
    let transport = gateway.transport().map_err(|e| e.to_string())?;
    let client = Client::new(transport, timer, UuidControlIds::new(), config);
    let mut manager = SessionManager::new(
        client,
        gateway.https_url(),
        demo_login(None),
        RenewalPolicy::DEFAULT,
    );
    run(&mut manager, args, |step| {
        let step_ms = u64::try_from(step.as_millis()).unwrap_or(u64::MAX);
        skipped_ms.set(skipped_ms.get().saturating_add(step_ms));
        gateway.simulator.advance_clock(step);
    })
}

fn real_gateway(credentials: &Credentials, args: &Args) -> Result<(), String> {
    let endpoint = credentials
        .endpoint_url
        .as_deref()
        .unwrap_or(DEFAULT_ENDPOINT);
    println!(
        "Using the gateway at {endpoint}; waiting {} s between calls",
        args.interval.as_secs()
    );
    let sender = Sender {
        sender_id: &credentials.sender_id,
        sender_password: &credentials.sender_password,
    };
    let login = Login {
        user_id: &credentials.user_id,
        company_id: &credentials.company_id,
        password: &credentials.user_password,
        location_id: credentials.entity_id.as_deref(),
    };
    let transport = StdTransport::new().map_err(|e| e.to_string())?;
    let client = Client::new(
        transport,
        StdTimer::new(),
        UuidControlIds::new(),
        Config::new(sender),
    );
    let mut manager = SessionManager::new(client, endpoint, login, RenewalPolicy::DEFAULT);
    run(&mut manager, args, std::thread::sleep)
}

/// The gateway loop: one call per interval, a switch to an entity and back.
fn run<M: Timer>(
    manager: &mut SessionManager<'_, StdTransport, M, UuidControlIds>,
    args: &Args,
    mut wait: impl FnMut(Duration),
) -> Result<(), String> {
    let mut head = vec![0u8; DEFAULT_HEAD_BUFFER];
    let mut body = vec![0u8; DEFAULT_BODY_BUFFER];
    let mut buffers = Buffers {
        head: &mut head,
        body: &mut body,
    };
    let switch_at = args.calls / 3 + 1;
    let back_at = 2 * args.calls / 3 + 1;
    let mut entity = args.entity.clone();
    let mut failures = 0u32;

    for number in 1..=args.calls {
        if number > 1 {
            wait(args.interval);
        }
        if number == switch_at {
            match entity.as_deref() {
                Some(id) => switch(manager, &mut buffers, Some(id), &mut failures),
                None => println!("{}  no entity listed to switch to", elapsed(manager)),
            }
        }
        if number == back_at {
            switch(manager, &mut buffers, None, &mut failures);
        }

        let before = manager.stats();
        let called = manager.call(LOCATIONS, &mut buffers);
        report_manager(manager, before, true);
        match called {
            Ok(result) => {
                let ids = location_ids(&result);
                if entity.is_none() {
                    entity = ids.first().cloned();
                }
                let status = if result.is_success() {
                    format!("{} location(s): {}", ids.len(), ids.join(", "))
                } else {
                    failures += 1;
                    result
                        .error()
                        .map_or_else(|| "failed".to_owned(), |e| e.to_string())
                };
                println!(
                    "{}  call {number}: readByQuery LOCATION -> {status}; {}",
                    elapsed(manager),
                    session_text(manager)
                );
            }
            Err(error) => {
                failures += 1;
                println!("{}  call {number} failed: {error}", elapsed(manager));
            }
        }
    }

    let stats = manager.stats();
    println!(
        "Done: {} call(s), {} login(s), {} renewal(s), {} switch(es), {} rejected session(s)",
        args.calls, stats.logins, stats.renewals, stats.switches, stats.rejections
    );
    if failures > 0 {
        return Err(format!("{failures} call(s) or switch(es) failed"));
    }
    Ok(())
}

/// Switches to entity `id`, or to the top level for `None`, and prints the
/// outcome. A gateway refusal (a user restricted to entities) is printed,
/// not fatal: the loop goes on at the current level.
fn switch<M: Timer>(
    manager: &mut SessionManager<'_, StdTransport, M, UuidControlIds>,
    buffers: &mut Buffers<'_>,
    id: Option<&str>,
    failures: &mut u32,
) {
    let before = manager.stats();
    let switched = match id {
        Some(id) => manager.switch_to_entity(id, buffers).map(|_| ()),
        None => manager.switch_to_top_level(buffers).map(|_| ()),
    };
    // The renewal or login before a switch is reported without the session,
    // which the switch has already replaced.
    report_manager(manager, before, false);
    let target = id.map_or_else(|| "the top level".to_owned(), |id| format!("entity {id}"));
    match switched {
        Ok(()) => println!(
            "{}  switched to {target}; {}",
            elapsed(manager),
            session_text(manager)
        ),
        Err(error) => {
            *failures += 1;
            println!("{}  switch to {target} failed: {error}", elapsed(manager));
        }
    }
}

/// Prints the logins, renewals and rejections since `before`, with the
/// current session when `show_session` is set.
fn report_manager<M: Timer>(
    manager: &SessionManager<'_, StdTransport, M, UuidControlIds>,
    before: Stats,
    show_session: bool,
) {
    let after = manager.stats();
    let at = elapsed(manager);
    let session = if show_session {
        format!("; {}", session_text(manager))
    } else {
        String::new()
    };
    if after.rejections > before.rejections {
        println!("{at}  the gateway rejected the session");
    }
    if after.logins > before.logins {
        println!("{at}  logged in (login #{}){session}", after.logins);
    }
    if after.renewals > before.renewals {
        println!(
            "{at}  renewed the session (renewal #{}){session}",
            after.renewals
        );
    }
}

fn location_ids(result: &CallResult<'_>) -> Vec<String> {
    let Some(data) = result.data else {
        return Vec::new();
    };
    data.records()
        .filter_map(|record| record.field("LOCATIONID"))
        .map(|id| id.to_string())
        .collect()
}

/// The session id (redacted), its level and the projected time left.
fn session_text<M: Timer>(manager: &SessionManager<'_, StdTransport, M, UuidControlIds>) -> String {
    let Some(session) = manager.current() else {
        return "no session".to_owned();
    };
    let now_ms = manager.client().timer().now_ms();
    let left = match session.lifetime.remaining_ms(now_ms) {
        Some(ms) => format!("{} left", clock_text(ms)),
        None => "lifetime unknown".to_owned(),
    };
    format!(
        "session {} at {}, {left}",
        session.session_id, session.location
    )
}

/// Time since the manager's clock started, as `[hh:mm:ss]`.
fn elapsed<M: Timer>(manager: &SessionManager<'_, StdTransport, M, UuidControlIds>) -> String {
    format!("[{}]", clock_text(manager.client().timer().now_ms()))
}

fn clock_text(ms: u64) -> String {
    let seconds = ms / 1000;
    format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}
