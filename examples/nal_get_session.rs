//! Gets an API session through the embedded-nal transport on a desktop.
//!
//! The same transport code that runs on a device drives `std-embedded-nal`,
//! the operating system's sockets behind the embedded-nal traits. The
//! example starts the built-in simulator on 127.0.0.1, then signs in twice:
//! once over plain HTTP, and once over TLS 1.3 through embedded-tls,
//! verified against the simulator's CA.
//!
//! ```text
//! cargo run --example nal_get_session
//! ```
//!
//! Output, one line per exchange, then the simulator's session count:
//!
//! ```text
//! simulator: http://127.0.0.1:PORT/ia/xml/xmlgw.phtml https://localhost:PORT/ia/xml/xmlgw.phtml
//! plain TCP: session abcd…(40 bytes) at http://… (top level); user demo-user; company DEMO-CO
//! TLS 1.3: session efgh…(40 bytes) at https://… (top level); user demo-user; company DEMO-CO
//! simulator sessions: 2
//! ```

use intacct_core::client::{Buffers, Client, Config, DEFAULT_BODY_BUFFER, DEFAULT_HEAD_BUFFER};
use intacct_core::request::{Authentication, SequentialControlIds, SessionLocation};
use intacct_e2e::{LocalGateway, demo_login, demo_sender};
use intacct_transport_nal::{AddrType, EmbeddedTls, NalTransport, Options, TlsBuffers};
use intacct_transport_std::StdTimer;
use rand_core::OsRng;
use std::cell::RefCell;
use std::process::ExitCode;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let gateway = LocalGateway::demo().map_err(|e| format!("starting the simulator: {e}"))?;
    println!("simulator: {} {}", gateway.http_url(), gateway.https_url());

    let stack = RefCell::new(std_embedded_nal::Stack);
    let tls_buffers: Box<TlsBuffers> = Box::default();
    let tls = EmbeddedTls::new(&tls_buffers, gateway.simulator.ca_der(), OsRng);
    // The simulator listens on 127.0.0.1 only, and `localhost` may resolve
    // to ::1 first.
    let options = Options {
        addr_type: AddrType::IPv4,
        ..Options::default()
    };
    let transport = NalTransport::new(&stack, StdTimer::new(), tls).with_options(options);

    let origins = gateway.allowed_origins();
    let mut config = Config::new(demo_sender());
    config.allowed_origins = &origins;
    let mut client = Client::new(
        transport,
        StdTimer::new(),
        SequentialControlIds::new("nal-example"),
        config,
    );
    let mut head = vec![0u8; DEFAULT_HEAD_BUFFER];
    let mut body = vec![0u8; DEFAULT_BODY_BUFFER];
    let mut buffers = Buffers {
        head: &mut head,
        body: &mut body,
    };

    for (label, url) in [
        ("plain TCP", gateway.http_url()),
        ("TLS 1.3", gateway.https_url()),
    ] {
        let session = client
            .get_session(
                url,
                Authentication::Login(demo_login(None)),
                SessionLocation::Current,
                &mut buffers,
            )
            .map_err(|error| format!("getAPISession over {label} to {url} failed: {error}"))?;
        println!(
            "{label}: {session}; user {}; company {}",
            session.user_id, session.company_id
        );
    }
    println!("simulator sessions: {}", gateway.simulator.session_count());
    Ok(())
}
