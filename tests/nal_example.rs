//! Runs `examples/nal_get_session.rs`, the embedded-nal transport on the
//! operating system's sockets, and checks both of its exchanges.

use intacct_simulator::{DEMO_COMPANY_ID, DEMO_USER_ID};
use std::process::Command;

#[test]
fn nal_example_gets_plain_and_tls_sessions() {
    let output = Command::new(env!("CARGO"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "--quiet", "--example", "nal_get_session"])
        .output()
        .expect("cargo could not be started");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(output.status.success(), "exit {}\n{context}", output.status);

    let line = |prefix: &str| {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no line starts with {prefix:?}\n{context}"))
            .to_owned()
    };
    let urls = line("simulator: ");
    let (http_url, https_url) = urls.split_once(' ').expect("two simulator URLs");
    assert!(http_url.starts_with("http://127.0.0.1:"), "{context}");
    assert!(https_url.starts_with("https://localhost:"), "{context}");

    let user = format!("; user {DEMO_USER_ID}; company {DEMO_COMPANY_ID}");
    let plain = line("plain TCP: session ");
    assert!(
        plain.contains(&format!(" at {http_url} (top level)")),
        "{context}"
    );
    assert!(plain.ends_with(&user), "{context}");
    let tls = line("TLS 1.3: session ");
    assert!(
        tls.contains(&format!(" at {https_url} (top level)")),
        "{context}"
    );
    assert!(tls.ends_with(&user), "{context}");

    assert_eq!(line("simulator sessions: "), "2", "{context}");
}
