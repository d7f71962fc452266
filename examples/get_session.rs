//! Gets an Intacct API session and prints it.
//!
//! With no credentials configured (no `INTACCT_*` variables and no
//! `~/.intacct/credentials.ini`), it starts the built-in simulator on
//! loopback over HTTPS and signs in with its demo credentials. With
//! credentials, it signs in to the real gateway.
//!
//! ```text
//! cargo run --example get_session -- [--entity ID | --top-level] [--json]
//! ```

use intacct_core::client::{
    Buffers, Client, ClientError, Config, DEFAULT_BODY_BUFFER, DEFAULT_HEAD_BUFFER,
};
use intacct_core::endpoint::{AllowedOrigin, DEFAULT_ENDPOINT};
use intacct_core::request::{Authentication, Login, Sender, SessionLocation};
use intacct_core::response::{GatewayError, Location};
use intacct_core::session::Session;
use intacct_core::transport::Security;
use intacct_e2e::{LocalGateway, demo_login, demo_sender};
use intacct_transport_std::{Credentials, StdTimer, StdTransport, TransportError, UuidControlIds};
use std::process::ExitCode;

const USAGE: &str = "\
Usage: get_session [--entity ID | --top-level] [--json]
                   [--allow-origin URL] [--ca-file PATH]

Gets an Intacct API session and prints its id (redacted), endpoint, location
and projected timeout.

  --entity ID   ask for a session for entity ID (getAPISession locationid)
  --top-level   ask for a top-level session (empty locationid)
  --json        print one JSON object instead of text
  --allow-origin URL
                allow this scheme://host:port although it is not https on
                intacct.com, for a test gateway such as intacct-simulator
  --ca-file PATH
                also trust the CA certificate (PEM) in PATH, such as the one
                intacct-simulator writes with --ca-out
  --help        print this help

Without INTACCT_* variables or ~/.intacct/credentials.ini, the built-in
simulator is started on 127.0.0.1 and its demo credentials are used.
Set RUST_LOG=debug to see each connection and attempt.";

/// Why the example failed: a message, and the gateway's error items when
/// the gateway reported the failure.
struct Failure {
    message: String,
    gateway: Option<Box<GatewayError>>,
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self {
            message,
            gateway: None,
        }
    }
}

struct Args {
    location: LocationArg,
    json: bool,
    allow_origin: Option<(Security, String, u16)>,
    ca_file: Option<String>,
}

enum LocationArg {
    Current,
    TopLevel,
    Entity(String),
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        location: LocationArg::Current,
        json: false,
        allow_origin: None,
        ca_file: None,
    };
    let mut location_flag: Option<&str> = None;
    let mut iter = std::env::args().skip(1);
    while let Some(arg) = iter.next() {
        if arg == "--entity" || arg == "--top-level" {
            if let Some(previous) = location_flag {
                return Err(format!(
                    "{arg} conflicts with the earlier {previous}; give one of them"
                ));
            }
            location_flag = Some(if arg == "--entity" {
                "--entity"
            } else {
                "--top-level"
            });
        }
        match arg.as_str() {
            "--entity" => {
                let id = iter.next().ok_or("--entity needs an entity id")?;
                if id.is_empty() {
                    return Err("--entity needs a non-empty entity id".into());
                }
                args.location = LocationArg::Entity(id);
            }
            "--top-level" => args.location = LocationArg::TopLevel,
            "--json" => args.json = true,
            "--allow-origin" => {
                let url = iter.next().ok_or("--allow-origin needs a URL")?;
                args.allow_origin = Some(parse_origin(&url)?);
            }
            "--ca-file" => args.ca_file = Some(iter.next().ok_or("--ca-file needs a path")?),
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

/// Reads the scheme, host and port of an `--allow-origin` URL.
fn parse_origin(url: &str) -> Result<(Security, String, u16), String> {
    let origin = AllowedOrigin::from_url(url)
        .map_err(|error| format!("--allow-origin {url:?} is not a valid URL: {error}"))?;
    Ok((origin.security, origin.host.to_owned(), origin.port))
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
    let location = match &args.location {
        LocationArg::Current => SessionLocation::Current,
        LocationArg::TopLevel => SessionLocation::TopLevel,
        LocationArg::Entity(id) => SessionLocation::Entity(id),
    };

    let result = match Credentials::load() {
        Ok(Some(credentials)) => real_gateway(&credentials, &args, location),
        Ok(None) => simulator(location),
        Err(error) => Err(Failure::from(format!("credentials: {error}"))),
    };
    match result {
        Ok((session, source)) => {
            print_session(&session, &source, args.json);
            ExitCode::SUCCESS
        }
        Err(failure) => {
            print_failure(&failure, args.json);
            ExitCode::FAILURE
        }
    }
}

fn print_failure(failure: &Failure, json: bool) {
    if json {
        let errors: Vec<serde_json::Value> = failure
            .gateway
            .iter()
            .flat_map(|gateway| gateway.errors())
            .map(|item| {
                serde_json::json!({
                    "errorno": item.errorno,
                    "description": item.description,
                    "description2": item.description2,
                    "correction": item.correction,
                    "truncated": item.truncated,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({ "error": failure.message, "gateway_errors": errors })
        );
        return;
    }
    eprintln!("error: {}", failure.message);
    for item in failure.gateway.iter().flat_map(|gateway| gateway.errors()) {
        eprintln!("  {item}");
    }
}

fn real_gateway(
    credentials: &Credentials,
    args: &Args,
    location: SessionLocation<'_>,
) -> Result<(Session, String), Failure> {
    let endpoint = credentials
        .endpoint_url
        .as_deref()
        .unwrap_or(DEFAULT_ENDPOINT);
    let mut builder = StdTransport::builder();
    if let Some(path) = &args.ca_file {
        builder = builder.add_root_pem_file(path).map_err(|e| e.to_string())?;
    }
    let transport = builder.build().map_err(|e| e.to_string())?;
    let origins: Vec<AllowedOrigin<'_>> = args
        .allow_origin
        .iter()
        .map(|(security, host, port)| AllowedOrigin {
            security: *security,
            host,
            port: *port,
        })
        .collect();
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
    let mut config = Config::new(sender);
    config.allowed_origins = &origins;
    let session = get_session(transport, config, endpoint, login, location)?;
    Ok((session, format!("gateway {endpoint}")))
}

fn simulator(location: SessionLocation<'_>) -> Result<(Session, String), Failure> {
    let gateway = LocalGateway::demo().map_err(|e| format!("starting the simulator: {e}"))?;
    let transport = gateway.transport().map_err(|e| e.to_string())?;
    let origins: Vec<AllowedOrigin<'_>> = gateway.allowed_origins();
    let mut config = Config::new(demo_sender());
    config.allowed_origins = &origins;
    let session = get_session(
        transport,
        config,
        gateway.https_url(),
        demo_login(None),
        location,
    )?;
    Ok((
        session,
        format!(
            "built-in simulator at {} (no credentials configured)",
            gateway.https_url()
        ),
    ))
}

fn get_session(
    transport: StdTransport,
    config: Config<'_>,
    endpoint: &str,
    login: Login<'_>,
    location: SessionLocation<'_>,
) -> Result<Session, Failure> {
    let mut client = Client::new(transport, StdTimer::new(), UuidControlIds::new(), config);
    let mut head = vec![0u8; DEFAULT_HEAD_BUFFER];
    let mut body = vec![0u8; DEFAULT_BODY_BUFFER];
    let mut buffers = Buffers {
        head: &mut head,
        body: &mut body,
    };
    let session = client
        .get_session(
            endpoint,
            Authentication::Login(login),
            location,
            &mut buffers,
        )
        .map_err(describe_failure)?;
    Ok(session)
}

fn describe_failure(error: ClientError<TransportError>) -> Failure {
    if let Some(gateway) = error.gateway_error() {
        let status = gateway
            .http_status
            .map_or(String::new(), |s| format!(" (HTTP {s})"));
        let mut message = format!(
            "the gateway's {} layer reported {}{status}",
            gateway.layer, gateway.status
        );
        if gateway.omitted > 0 {
            message.push_str(&format!("; {} more errors were not kept", gateway.omitted));
        }
        return Failure {
            message,
            gateway: Some(Box::new(gateway.clone())),
        };
    }
    let hint = match &error {
        ClientError::Connect(cause) if cause.is_certificate_error() => {
            "\n  hint: for a test gateway, trust its CA with --ca-file PATH"
        }
        ClientError::Endpoint { .. } => {
            "\n  hint: for a test gateway, name it with --allow-origin scheme://host:port"
        }
        _ => "",
    };
    Failure::from(format!("{error}{hint}"))
}

fn print_session(session: &Session, source: &str, json: bool) {
    let timeout_utc = session.projected_timeout().map(utc_text);
    let timeout_local = session.projected_timeout().map(local_text);
    let location_id = match &session.location {
        Location::Unstated => None,
        Location::TopLevel => Some(""),
        Location::Entity(id) => Some(id.as_str()),
    };
    let location = match &session.location {
        Location::Unstated => "(not stated)".to_owned(),
        Location::TopLevel => "top level".to_owned(),
        Location::Entity(id) => id.to_string(),
    };
    if json {
        let value = serde_json::json!({
            "source": source,
            "session_id": session.session_id.to_string(),
            "endpoint": session.endpoint.as_str(),
            "location": location,
            "location_id": location_id,
            "user_id": session.user_id.as_str(),
            "company_id": session.company_id.as_str(),
            "session_timeout_utc": timeout_utc,
            "session_timeout_local": timeout_local,
        });
        println!("{value}");
        return;
    }
    println!("Got an API session from the {source}");
    println!("  session id: {} (redacted)", session.session_id);
    println!("  endpoint:   {}", session.endpoint);
    println!("  location:   {location}");
    println!(
        "  user:       {} in company {}",
        session.user_id, session.company_id
    );
    match (timeout_utc, timeout_local) {
        (Some(utc), Some(local)) => {
            println!("  timeout:    {utc} (UTC), {local} (local time)");
        }
        _ => println!("  timeout:    unknown (the response had no sessiontimeout)"),
    }
}

fn utc_text(seconds: i64) -> String {
    intacct_core::time::Utc(seconds).to_string()
}

fn local_text(seconds: i64) -> String {
    use chrono::TimeZone;
    match chrono::Local.timestamp_opt(seconds, 0) {
        chrono::LocalResult::Single(time) => time.format("%Y-%m-%d %H:%M:%S %:z").to_string(),
        _ => utc_text(seconds),
    }
}
