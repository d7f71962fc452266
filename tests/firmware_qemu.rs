//! Boots the Cortex-M4 firmware (examples/firmware) under QEMU against the
//! simulator on loopback and checks the getAPISession exchange it reports:
//! over plain TCP, over TLS 1.3, and over TLS with a CA that did not sign
//! the server's certificate.
//!
//! Each test builds the firmware for the simulator it started (the port,
//! credentials and CA are build-time settings), bridges QEMU's UART0 to
//! that simulator with `-serial tcp:127.0.0.1:PORT`, and reads the
//! semihosting output. Every run prints a `measure:` line with the ELF's
//! section sizes and the firmware's peak stack; `examples/firmware/measure.sh`
//! collects them.
//!
//! These tests need `qemu-system-arm` and the `thumbv7em-none-eabihf` Rust
//! target, and fail when either is missing.

use intacct_e2e::LocalGateway;
use intacct_simulator::{
    Config, DEMO_COMPANY_ID, DEMO_SENDER_ID, DEMO_SENDER_PASSWORD, DEMO_USER_ID,
    DEMO_USER_PASSWORD, Options,
};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

const QEMU: &str = "qemu-system-arm";
const MACHINE: &str = "mps2-an386";
const ELF_NAME: &str = "intacct-firmware-qemu";
/// Maximum duration of a firmware run; QEMU is killed after it.
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

/// Serializes firmware builds: every build writes the same ELF path.
static BUILD: Mutex<()> = Mutex::new(());

fn firmware_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/firmware")
}

/// Which firmware build to make.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Build {
    Plain,
    Tls,
}

impl Build {
    fn name(self) -> &'static str {
        match self {
            Build::Plain => "plain",
            Build::Tls => "tls",
        }
    }
}

/// Fails the test unless `qemu-system-arm` runs and models the board.
fn require_qemu() {
    let output = Command::new(QEMU).args(["-machine", "help"]).output();
    let output = match output {
        Ok(output) => output,
        Err(error) => panic!(
            "{QEMU} could not be started ({error}): install it with \
             `apt-get install -y qemu-system-arm` (.ci/run and test.sh do this)"
        ),
    };
    let machines = String::from_utf8_lossy(&output.stdout);
    assert!(
        machines.lines().any(|line| line.starts_with(MACHINE)),
        "{QEMU} does not model the {MACHINE} board; its machines are:\n{machines}"
    );
}

/// Builds the firmware for `port` and returns a copy of the ELF that later
/// builds do not overwrite.
fn build_firmware(build: Build, port: u16, ca_path: Option<&Path>, label: &str) -> PathBuf {
    let directory = firmware_dir();
    let target_dir = directory.join("target");
    let mut command = Command::new(env!("CARGO"));
    command
        .current_dir(&directory)
        .args(["build", "--release", "--quiet"])
        .env("CARGO_TARGET_DIR", &target_dir)
        // Host flags (say `-C target-cpu=native`) must not reach a
        // Cortex-M build.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env("INTACCT_FW_PORT", port.to_string())
        .env("INTACCT_FW_SENDER_ID", DEMO_SENDER_ID)
        .env("INTACCT_FW_SENDER_PASSWORD", DEMO_SENDER_PASSWORD)
        .env("INTACCT_FW_USER_ID", DEMO_USER_ID)
        .env("INTACCT_FW_COMPANY_ID", DEMO_COMPANY_ID)
        .env("INTACCT_FW_USER_PASSWORD", DEMO_USER_PASSWORD)
        .env_remove("INTACCT_FW_HOST");
    match build {
        Build::Plain => {
            command.env_remove("INTACCT_FW_CA");
        }
        Build::Tls => {
            let ca_path = ca_path.expect("a TLS build needs a CA file");
            command
                .args(["--features", "tls"])
                .env("INTACCT_FW_CA", ca_path);
        }
    }

    let _guard = BUILD
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let output = command.output().expect("cargo could not be started");
    assert!(
        output.status.success(),
        "building the {} firmware failed ({}); is the thumbv7em-none-eabihf target installed \
         (`rustup target add thumbv7em-none-eabihf`)?\n{}",
        build.name(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let elf = target_dir
        .join("thumbv7em-none-eabihf/release")
        .join(ELF_NAME);
    let copy = target_dir.join(format!("{ELF_NAME}-{label}.elf"));
    std::fs::copy(&elf, &copy).expect("copying the firmware ELF failed");
    copy
}

/// What a QEMU run produced.
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Returns the value after `key: ` on the first line that starts with it.
    fn value(&self, key: &str) -> Option<&str> {
        let prefix = format!("{key}: ");
        self.stdout
            .lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .map(str::trim)
    }
}

/// Boots `elf` with UART0 bridged to 127.0.0.1:`port`, killing QEMU after
/// [`RUN_TIMEOUT`].
fn run_qemu(elf: &Path, port: u16) -> Run {
    let mut child = Command::new(QEMU)
        .args(["-machine", MACHINE, "-cpu", "cortex-m4", "-nographic"])
        .args(["-monitor", "none"])
        .args(["-serial", &format!("tcp:127.0.0.1:{port}")])
        .args(["-semihosting-config", "enable=on,target=native"])
        .arg("-kernel")
        .arg(elf)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("{QEMU} could not be started: {error}"));

    let stdout = read_in_background(child.stdout.take());
    let stderr = read_in_background(child.stderr.take());
    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for QEMU failed") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the firmware did not finish within {RUN_TIMEOUT:?}; QEMU was killed. Output:\n{}\n{}",
                stdout.join().unwrap_or_default(),
                stderr.join().unwrap_or_default()
            );
        }
        thread::sleep(Duration::from_millis(50));
    };
    Run {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

fn read_in_background(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}

/// Sizes of the allocated sections of a 32-bit little-endian ELF, by name.
fn section_sizes(elf: &Path) -> Vec<(String, u64)> {
    let bytes = std::fs::read(elf).expect("reading the firmware ELF failed");
    let u16_at = |offset: usize| u16::from_le_bytes([bytes[offset], bytes[offset + 1]]) as usize;
    let u32_at = |offset: usize| {
        u32::from_le_bytes([
            bytes[offset],
            bytes[offset + 1],
            bytes[offset + 2],
            bytes[offset + 3],
        ]) as usize
    };
    assert_eq!(
        &bytes[..4],
        b"\x7fELF",
        "{} is not an ELF file",
        elf.display()
    );
    assert_eq!(bytes[4], 1, "{} is not a 32-bit ELF file", elf.display());

    let section_offset = u32_at(0x20);
    let entry_size = u16_at(0x2e);
    let count = u16_at(0x30);
    let names_index = u16_at(0x32);
    let header = |index: usize| section_offset + index * entry_size;
    let names_offset = u32_at(header(names_index) + 16);

    const SHF_ALLOC: usize = 0x2;
    (0..count)
        .filter(|&index| u32_at(header(index) + 8) & SHF_ALLOC != 0)
        .map(|index| {
            let name_start = names_offset + u32_at(header(index));
            let name_end = name_start
                + bytes[name_start..]
                    .iter()
                    .position(|&b| b == 0)
                    .expect("unterminated section name");
            let name = String::from_utf8_lossy(&bytes[name_start..name_end]).into_owned();
            (name, u32_at(header(index) + 20) as u64)
        })
        .collect()
}

/// Prints the `measure:` line for one configuration.
fn report_measurements(configuration: &str, elf: &Path, run: &Run) {
    let sizes = section_sizes(elf);
    let size = |name: &str| {
        sizes
            .iter()
            .filter(|(section, _)| section == name)
            .map(|(_, size)| size)
            .sum::<u64>()
    };
    let stack: u64 = run
        .value("stack-peak-bytes")
        .and_then(|value| value.parse().ok())
        .expect("the firmware printed no stack-peak-bytes line");
    assert!(stack > 0, "the stack peak must be positive");
    println!(
        "measure: configuration={configuration} vector_table={} text={} rodata={} data={} bss={} \
         uninit={} flash_text_rodata={} ram_data_bss={} stack_peak={stack}",
        size(".vector_table"),
        size(".text"),
        size(".rodata"),
        size(".data"),
        size(".bss"),
        size(".uninit"),
        size(".text") + size(".rodata"),
        size(".data") + size(".bss"),
    );
}

/// Checks a successful run against the simulator that served it.
fn assert_session(run: &Run, gateway: &LocalGateway, endpoint: &str) {
    let output = format!("stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(
        run.status.success(),
        "the firmware exited with {}\n{output}",
        run.status
    );
    assert_eq!(run.value("result"), Some("ok"), "{output}");

    let session = run.value("session").unwrap_or_default();
    assert!(
        session.starts_with("session ")
            && session.ends_with(&format!(" at {endpoint} (top level)")),
        "unexpected session line {session:?}\n{output}"
    );
    assert_eq!(run.value("user"), Some(DEMO_USER_ID), "{output}");
    assert_eq!(run.value("company"), Some(DEMO_COMPANY_ID), "{output}");
    assert!(
        run.value("timeout").is_some_and(|t| t.ends_with('Z')),
        "{output}"
    );

    assert_eq!(gateway.simulator.session_count(), 1, "{output}");
    let request = gateway.simulator.last_request_body().unwrap_or_default();
    assert!(request.contains("<getAPISession"), "{request}");
}

fn start_gateway(options: Options) -> LocalGateway {
    let gateway = LocalGateway::start(Config::demo(), options).expect("starting the simulator");
    for address in [
        gateway.simulator.http_addr(),
        gateway.simulator.https_addr(),
    ]
    .into_iter()
    .flatten()
    {
        assert!(
            address.ip().is_loopback(),
            "the simulator must listen on loopback only"
        );
    }
    gateway
}

#[test]
fn firmware_gets_session_over_plain_tcp() {
    require_qemu();
    let gateway = start_gateway(Options::http_only());
    let port = gateway.simulator.http_addr().expect("HTTP listener").port();

    let elf = build_firmware(Build::Plain, port, None, "plain");
    let run = run_qemu(&elf, port);

    assert_session(&run, &gateway, gateway.http_url());
    assert!(
        run.value("intacct-firmware")
            .is_some_and(|line| line.contains("plain TCP")),
        "{}",
        run.stdout
    );
    report_measurements("plain", &elf, &run);
}

#[test]
fn firmware_gets_session_over_tls() {
    require_qemu();
    let gateway = start_gateway(Options::https_only());
    let port = gateway
        .simulator
        .https_addr()
        .expect("HTTPS listener")
        .port();

    let elf = build_firmware(Build::Tls, port, Some(gateway.simulator.ca_path()), "tls");
    let run = run_qemu(&elf, port);

    assert_session(&run, &gateway, gateway.https_url());
    assert!(
        run.value("intacct-firmware")
            .is_some_and(|line| line.contains("TLS 1.3")),
        "{}",
        run.stdout
    );
    report_measurements("tls", &elf, &run);
}

#[test]
fn firmware_rejects_certificate_from_other_ca() {
    require_qemu();
    let server = start_gateway(Options::https_only());
    let other = start_gateway(Options::https_only());
    let port = server
        .simulator
        .https_addr()
        .expect("HTTPS listener")
        .port();

    // Built to trust `other`'s CA, bridged to `server`.
    let elf = build_firmware(
        Build::Tls,
        port,
        Some(other.simulator.ca_path()),
        "tls-other-ca",
    );
    let run = run_qemu(&elf, port);

    let output = format!("stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert_eq!(run.status.code(), Some(1), "{output}");
    assert_eq!(run.value("result"), Some("failed"), "{output}");
    assert!(
        run.value("error")
            .is_some_and(|error| error.contains("InvalidCertificate")),
        "{output}"
    );
    assert_eq!(server.simulator.session_count(), 0, "{output}");
    assert_eq!(server.simulator.requests_received(), 0, "{output}");
}
