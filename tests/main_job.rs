//! Runs the README's examples, `get_session` (the main command) and
//! `keep_alive`, as a user would on a fresh machine: no credentials, so
//! they start the built-in simulator on loopback.

use std::path::PathBuf;
use std::process::Command;

/// Returns the path of the example binary that `cargo test` builds next to
/// this test.
fn example_binary(name: &str) -> PathBuf {
    let test_binary = std::env::current_exe().expect("test binary path");
    let profile_dir = test_binary
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

fn run_example(args: &[&str]) -> std::process::Output {
    run_named_example("get_session", args)
}

fn run_named_example(name: &str, args: &[&str]) -> std::process::Output {
    let home = std::env::temp_dir().join(format!("intacct-main-job-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let mut command = Command::new(example_binary(name));
    command.args(args).env("HOME", &home).env_remove("RUST_LOG");
    for (key, _) in std::env::vars() {
        if key.starts_with("INTACCT_") {
            command.env_remove(key);
        }
    }
    let output = command.output().expect("the get_session example runs");
    let _ = std::fs::remove_dir_all(&home);
    output
}

#[test]
fn main_job_prints_session_from_simulator() {
    let output = run_example(&[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("built-in simulator at https://localhost:"),
        "{stdout}"
    );
    assert!(stdout.contains("location:   top level"), "{stdout}");
    assert!(stdout.contains("(redacted)"), "{stdout}");
    assert!(stdout.contains("(UTC)"), "{stdout}");
}

#[test]
fn main_job_json_for_entity() {
    let output = run_example(&["--entity", "EAST", "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(value["location"], "EAST");
    assert_eq!(value["company_id"], "DEMO-CO");
    let id = value["session_id"].as_str().unwrap();
    assert!(id.contains('…'), "the session id is redacted: {id}");
}

#[test]
fn main_job_reports_gateway_errors() {
    let output = run_example(&["--entity", "NORTH"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("BL34000061"), "{stderr}");
    assert!(stderr.contains("result layer"), "{stderr}");
}

#[test]
fn main_job_rejects_unknown_arguments() {
    let output = run_example(&["--bogus"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown argument"));
}

#[test]
fn main_job_json_error_lists_gateway_errors() {
    let output = run_example(&["--entity", "NORTH", "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(value["gateway_errors"][0]["errorno"], "BL34000061");
    assert_eq!(value["gateway_errors"][1]["errorno"], "BL01001973");
    assert!(value["error"].as_str().unwrap().contains("result layer"));
}

#[test]
fn main_job_rejects_conflicting_levels() {
    let output = run_example(&["--entity", "EAST", "--top-level"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("conflicts"));
}

#[test]
fn keep_alive_example_holds_one_login() {
    let output = run_named_example("keep_alive", &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with("Done: 12 call(s), 1 login(s)"),
        "{summary}"
    );
    assert!(summary.contains("2 switch(es)"), "{summary}");
    assert!(stdout.contains("switched to entity EAST"), "{stdout}");
}
