//! `intacct-simulator`: runs the simulated gateway with the demo setup until
//! stopped.

use std::io::{self, BufRead, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use intacct_simulator::{
    Config, DEMO_COMPANY_ID, DEMO_ENTITY_EAST, DEMO_ENTITY_WEST, DEMO_SENDER_ID,
    DEMO_SENDER_PASSWORD, DEMO_USER_ID, DEMO_USER_PASSWORD, Options, RESTRICTED_USER_ID,
    RESTRICTED_USER_PASSWORD, Simulator,
};

const HELP: &str = "\
intacct-simulator: a local Sage Intacct XML gateway for tests and device development

USAGE:
    intacct-simulator [OPTIONS]

OPTIONS:
    --http-port PORT          Port of the plain HTTP listener; 0 picks a free
                              port, `off` disables it [default: 0]
    --https-port PORT         Port of the HTTPS listener; 0 picks a free port,
                              `off` disables it [default: 0]
    --bind ADDRESS            IP address both listeners bind to
                              [default: 127.0.0.1]. Any non-loopback address
                              exposes a gateway that accepts the published
                              demo credentials to the network.
    --endpoint-host HOST      Host put in the endpoint URL that getAPISession
                              returns and in the HTTPS certificate
                              [default: localhost for HTTPS, the bound address
                              for HTTP]
    --ca-out PATH             File to write the CA certificate (PEM) to
                              [default: a temporary file, removed on a clean
                              stop]
    --session-seconds SECONDS Session duration after the last use
                              [default: 1800]
    --utc-offset-minutes MIN  UTC offset of response timestamps, in minutes
                              east of UTC [default: -480, which is -08:00]
    --log-level LEVEL         off, error, warn, info, debug or trace
                              [default: info]
    -h, --help                Print this help and exit

The simulator serves the demo company printed at start. Press Enter to stop
cleanly, or Ctrl-C to stop at once (a temporary CA file then stays behind).
";

struct Arguments {
    options: Options,
    session_seconds: Option<u64>,
    utc_offset_minutes: Option<i32>,
    log_level: log::LevelFilter,
}

fn parse_port(flag: &str, value: &str) -> Result<Option<u16>, String> {
    if value.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| format!("{flag} {value:?} is not a port: use 0 to 65535 or `off`"))
}

fn parse_arguments(
    mut arguments: impl Iterator<Item = String>,
) -> Result<Option<Arguments>, String> {
    let mut parsed = Arguments {
        options: Options::default(),
        session_seconds: None,
        utc_offset_minutes: None,
        log_level: log::LevelFilter::Info,
    };
    while let Some(flag) = arguments.next() {
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let Some(value) = arguments.next() else {
            return Err(format!("{flag} needs a value (or is unknown); see --help"));
        };
        match flag.as_str() {
            "--http-port" => parsed.options.http_port = parse_port(&flag, &value)?,
            "--https-port" => parsed.options.https_port = parse_port(&flag, &value)?,
            "--bind" => {
                parsed.options.bind = value.parse::<IpAddr>().map_err(|_| {
                    format!("--bind {value:?} is not an IP address, such as 127.0.0.1 or ::1")
                })?;
            }
            "--endpoint-host" => parsed.options.endpoint_host = Some(value),
            "--ca-out" => parsed.options.ca_path = Some(PathBuf::from(value)),
            "--session-seconds" => {
                let seconds = value
                    .parse::<u64>()
                    .ok()
                    .filter(|&seconds| seconds > 0)
                    .ok_or_else(|| {
                        format!("--session-seconds {value:?} is not a positive whole number")
                    })?;
                parsed.session_seconds = Some(seconds);
            }
            "--utc-offset-minutes" => {
                let minutes = value.parse::<i32>().map_err(|_| {
                    format!("--utc-offset-minutes {value:?} is not a whole number, such as -480")
                })?;
                parsed.utc_offset_minutes = Some(minutes);
            }
            "--log-level" => {
                parsed.log_level = value.parse().map_err(|_| {
                    format!(
                        "--log-level {value:?} is not one of off, error, warn, info, debug, trace"
                    )
                })?;
            }
            _ => return Err(format!("unknown option {flag:?}; see --help")),
        }
    }
    Ok(Some(parsed))
}

/// Writes log records to standard error.
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let _ = writeln!(
                io::stderr().lock(),
                "[{} {}] {}",
                record.level(),
                record.target(),
                record.args()
            );
        }
    }

    fn flush(&self) {
        let _ = io::stderr().flush();
    }
}

static LOGGER: StderrLogger = StderrLogger;

fn main() -> ExitCode {
    let arguments = match parse_arguments(std::env::args().skip(1)) {
        Ok(Some(arguments)) => arguments,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(arguments.log_level);
    }

    let mut config = Config::demo();
    if let Some(seconds) = arguments.session_seconds {
        config = config.with_session_duration(Duration::from_secs(seconds));
    }
    if let Some(minutes) = arguments.utc_offset_minutes {
        config = config.with_utc_offset_minutes(minutes);
    }
    let bind = arguments.options.bind;
    let simulator = match Simulator::start(config, arguments.options) {
        Ok(simulator) => simulator,
        Err(error) => {
            eprintln!("error: could not start the simulator: {error}");
            return ExitCode::FAILURE;
        }
    };

    if !bind.is_loopback() {
        eprintln!(
            "warning: listening on {bind}, not loopback: other machines can reach this test gateway and its published demo credentials"
        );
    }
    println!("intacct-simulator is running.");
    println!(
        "  HTTP gateway:   {}",
        simulator.http_url().unwrap_or("off")
    );
    println!(
        "  HTTPS gateway:  {}",
        simulator.https_url().unwrap_or("off")
    );
    println!("  CA certificate: {}", simulator.ca_path().display());
    println!("Demo credentials:");
    println!("  sender id / password: {DEMO_SENDER_ID} / {DEMO_SENDER_PASSWORD}");
    println!(
        "  company id:           {DEMO_COMPANY_ID} (entities {DEMO_ENTITY_EAST}, {DEMO_ENTITY_WEST})"
    );
    println!(
        "  user / password:      {DEMO_USER_ID} / {DEMO_USER_PASSWORD} (top level and every entity)"
    );
    println!(
        "  user / password:      {RESTRICTED_USER_ID} / {RESTRICTED_USER_PASSWORD} (restricted to {DEMO_ENTITY_EAST})"
    );
    println!("Press Enter to stop.");
    let _ = io::stdout().flush();

    // A line on standard input stops the simulator. At end of input (for
    // example when started in the background) it keeps running until killed.
    let mut line = String::new();
    match io::stdin().lock().read_line(&mut line) {
        Ok(count) if count > 0 => {}
        _ => loop {
            std::thread::park();
        },
    }
    simulator.shutdown();
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(arguments: &[&str]) -> Result<Option<Arguments>, String> {
        parse_arguments(arguments.iter().map(|argument| (*argument).to_owned()))
    }

    #[test]
    fn ports_and_off() {
        let arguments = parse(&["--http-port", "8080", "--https-port", "off"])
            .unwrap()
            .unwrap();
        assert_eq!(arguments.options.http_port, Some(8080));
        assert_eq!(arguments.options.https_port, None);
    }

    #[test]
    fn help_returns_none() {
        assert!(parse(&["--help"]).unwrap().is_none());
    }

    #[test]
    fn bad_values_name_the_flag() {
        let error = parse(&["--session-seconds", "0"]).err().unwrap();
        assert!(error.contains("--session-seconds"), "{error}");
        let error = parse(&["--bind", "localhost"]).err().unwrap();
        assert!(error.contains("--bind"), "{error}");
        let error = parse(&["--frobnicate", "1"]).err().unwrap();
        assert!(error.contains("unknown option"), "{error}");
        let error = parse(&["--ca-out"]).err().unwrap();
        assert!(error.contains("needs a value"), "{error}");
    }
}
