//! Connections, keep-alive, TLS, injected faults and shutdown.

mod common;

use std::io::{BufRead, Read};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use intacct_simulator::{Config, Fault, GATEWAY_PATH, Options, Simulator};

fn login_body() -> String {
    request(&demo_login(None), &get_api_session(Level::Current))
}

#[test]
fn keep_alive_two_requests_one_connection() {
    let handle = start_demo();
    let mut connection = Connection::open(handle.http_addr().unwrap());
    let first = connection.post(&login_body());
    assert_eq!(first.status, 200);
    assert_eq!(first.header("connection"), Some("keep-alive"));
    let session_id = first.xml().get("operation/result/data/api/sessionid");
    let second = connection.post(&request(&session(&session_id), &read_locations("q")));
    assert_eq!(second.status, 200);
    assert_eq!(second.xml().get("operation/result/status"), "success");
    assert_eq!(handle.connections_accepted(), 1);
    assert_eq!(handle.requests_received(), 2);
}

#[test]
fn pipelined_requests_answered_in_order() {
    let handle = start_demo();
    let mut connection = Connection::open(handle.http_addr().unwrap());
    let mut bytes = post_bytes(
        GATEWAY_PATH,
        &request(&demo_login(None), &read_locations("first")),
        false,
    );
    bytes.extend(post_bytes(
        GATEWAY_PATH,
        &request(&demo_login(None), &read_locations("second")),
        true,
    ));
    connection.send(&bytes);
    let first = connection.read().unwrap();
    let second = connection.read().unwrap();
    assert_eq!(first.xml().get("operation/result/controlid"), "first");
    assert_eq!(second.xml().get("operation/result/controlid"), "second");
    assert_eq!(second.header("connection"), Some("close"));
    assert!(connection.read_to_end().is_empty());
}

#[test]
fn connection_close_ends_connection() {
    let handle = start_demo();
    let mut connection = Connection::open(handle.http_addr().unwrap());
    connection.send(&post_bytes(GATEWAY_PATH, &login_body(), true));
    let response = connection.read().unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.header("connection"), Some("close"));
    assert!(connection.read_to_end().is_empty());
}

#[test]
fn http10_closes_by_default() {
    let handle = start_demo();
    let mut connection = Connection::open(handle.http_addr().unwrap());
    let body = login_body();
    connection.send(
        format!(
            "POST {GATEWAY_PATH} HTTP/1.0\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    let response = connection.read().unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.header("connection"), Some("close"));
}

#[test]
fn https_session_with_localhost_name() {
    let handle = Simulator::start(Config::demo(), Options::default()).unwrap();
    let https_url = handle.https_url().unwrap();
    let port = handle.https_addr().unwrap().port();
    assert_eq!(
        https_url,
        format!("https://localhost:{port}/ia/xml/xmlgw.phtml")
    );

    let mut connection = TlsConnection::open(&handle, "localhost");
    let response = connection.post(&login_body());
    assert_eq!(response.status, 200);
    let xml = response.xml();
    assert_eq!(xml.get("operation/result/data/api/endpoint"), https_url);
    // Keep-alive over TLS.
    let session_id = xml.get("operation/result/data/api/sessionid");
    let response = connection.post(&request(
        &session(&session_id),
        &get_api_session(Level::Current),
    ));
    assert_eq!(
        response.xml().get("operation/result/data/api/sessionid"),
        session_id
    );
    assert_eq!(handle.connections_accepted(), 1);
}

#[test]
fn https_certificate_covers_ip_address() {
    let handle = Simulator::start(Config::demo(), Options::https_only()).unwrap();
    assert_eq!(handle.http_url(), None);
    let mut connection = TlsConnection::open(&handle, "127.0.0.1");
    assert_eq!(connection.post(&login_body()).status, 200);
}

#[test]
fn https_rejects_wrong_name() {
    let handle = Simulator::start(Config::demo(), Options::https_only()).unwrap();
    let mut connection = TlsConnection::open(&handle, "example.com");
    let bytes = post_bytes(GATEWAY_PATH, &login_body(), true);
    let result = std::io::Write::write_all(connection.reader.get_mut(), &bytes)
        .and_then(|()| connection.reader.fill_buf().map(|_| ()));
    let error = result.unwrap_err().to_string();
    assert!(
        error.contains("NotValidForName") || error.contains("certificate"),
        "{error}"
    );
}

#[test]
fn ca_file_written_and_removed() {
    let handle = start_demo();
    let path = handle.ca_path().to_path_buf();
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(written, handle.ca_pem());
    handle.shutdown();
    assert!(!path.exists(), "{} still exists", path.display());
}

#[test]
fn ca_file_at_chosen_path_stays() {
    let path = std::env::temp_dir().join(format!("intacct-sim-test-ca-{}.pem", std::process::id()));
    let options = Options {
        ca_path: Some(path.clone()),
        ..Options::default()
    };
    let handle = Simulator::start(Config::demo(), options).unwrap();
    assert_eq!(handle.ca_path(), path);
    handle.shutdown();
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(
        written.starts_with("-----BEGIN CERTIFICATE-----"),
        "{written}"
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn fault_html_page_skips_processing() {
    let handle = start_demo();
    let address = handle.http_addr().unwrap();
    for status in [502, 503, 504, 524] {
        handle.push_fault(Fault::Html(status));
        let response = post(address, &login_body());
        assert_eq!(response.status, status);
        assert_eq!(
            response.header("content-type"),
            Some("text/html; charset=UTF-8")
        );
        assert_eq!(response.header("server"), Some("cloudflare"));
        assert!(
            response.text().contains(&format!("Error code {status}")),
            "{}",
            response.text()
        );
    }
    assert_eq!(handle.session_count(), 0);
    assert_eq!(handle.pending_faults(), 0);
    assert_eq!(post(address, &login_body()).status, 200);
}

#[test]
fn fault_empty_500() {
    let handle = start_demo();
    handle.push_fault(Fault::Empty(500));
    let mut connection = Connection::open(handle.http_addr().unwrap());
    let response = connection.post(&login_body());
    assert_eq!(response.status, 500);
    assert_eq!(response.header("content-length"), Some("0"));
    assert!(response.body.is_empty());
    // The connection survives the fault.
    assert_eq!(connection.post(&login_body()).status, 200);
}

#[test]
fn fault_truncated_body() {
    let handle = start_demo();
    handle.push_fault(Fault::Truncated);
    let mut connection = Connection::open(handle.http_addr().unwrap());
    connection.send(&post_bytes(GATEWAY_PATH, &login_body(), false));
    let mut head = String::new();
    loop {
        let mut line = String::new();
        connection.reader.read_line(&mut line).unwrap();
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("Content-Length: "))
        .unwrap()
        .parse()
        .unwrap();
    let body = connection.read_to_end();
    assert!(!body.is_empty());
    assert!(body.len() < length, "{} of {length} bytes", body.len());
    // The request was processed even though the response was cut.
    assert_eq!(handle.session_count(), 1);
}

#[test]
fn fault_delay_then_normal() {
    let handle = start_demo();
    handle.push_fault(Fault::Delay(Duration::from_millis(300)));
    let started = Instant::now();
    let response = post(handle.http_addr().unwrap(), &login_body());
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(response.status, 200);
    assert_eq!(response.xml().get("operation/result/status"), "success");
}

#[test]
fn fault_chunked_uses_seeded_sizes() {
    let handle = start_demo();
    let mut connection = Connection::open(handle.http_addr().unwrap());
    let mut sizes = Vec::new();
    for _ in 0..2 {
        handle.push_fault(Fault::Chunked { seed: 42 });
        let response = connection.post(&login_body());
        assert_eq!(response.status, 200);
        assert_eq!(response.header("transfer-encoding"), Some("chunked"));
        assert_eq!(response.header("content-length"), None);
        assert!(
            response.chunk_sizes.len() > 10,
            "{:?}",
            response.chunk_sizes
        );
        assert!(
            response
                .chunk_sizes
                .iter()
                .all(|&size| (1..=64).contains(&size))
        );
        assert_eq!(response.xml().get("operation/result/status"), "success");
        sizes.push(response.chunk_sizes);
    }
    assert_eq!(sizes[0], sizes[1]);
}

#[test]
fn default_chunked_setting() {
    let handle = start_demo();
    handle.set_default_chunked(true);
    let response = post(handle.http_addr().unwrap(), &login_body());
    assert_eq!(response.header("transfer-encoding"), Some("chunked"));
    assert_eq!(response.xml().get("operation/result/status"), "success");
    handle.set_default_chunked(false);
    let response = post(handle.http_addr().unwrap(), &login_body());
    assert_eq!(response.header("transfer-encoding"), None);
}

#[test]
fn fault_oversized_headers() {
    let handle = start_demo();
    handle.push_fault(Fault::OversizedHeaders(20_000));
    let response = post(handle.http_addr().unwrap(), &login_body());
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("x-simulator-padding").map(str::len),
        Some(20_000)
    );
    assert_eq!(response.xml().get("operation/result/status"), "success");
}

#[test]
fn fault_close_without_answer() {
    let handle = start_demo();
    handle.push_fault(Fault::Close);
    let mut connection = Connection::open(handle.http_addr().unwrap());
    connection.send(&post_bytes(GATEWAY_PATH, &login_body(), false));
    assert!(connection.read_to_end().is_empty());
    assert_eq!(handle.session_count(), 0);
    assert_eq!(handle.requests_received(), 1);
}

#[test]
fn faults_consumed_in_order() {
    let handle = start_demo();
    let address = handle.http_addr().unwrap();
    handle.push_fault(Fault::Html(503));
    handle.push_fault(Fault::Empty(500));
    assert_eq!(handle.pending_faults(), 2);
    // Requests to other paths take no fault.
    let mut connection = Connection::open(address);
    connection.send(&post_bytes("/elsewhere", "x", true));
    assert_eq!(connection.read().unwrap().status, 404);
    assert_eq!(post(address, &login_body()).status, 503);
    assert_eq!(post(address, &login_body()).status, 500);
    assert_eq!(post(address, &login_body()).status, 200);

    handle.push_fault(Fault::Close);
    handle.clear_faults();
    assert_eq!(post(address, &login_body()).status, 200);
}

#[test]
fn last_request_body_recorded() {
    let handle = start_demo();
    assert_eq!(handle.last_request_body(), None);
    let body = login_body();
    post(handle.http_addr().unwrap(), &body);
    assert_eq!(handle.last_request_body().as_deref(), Some(body.as_str()));
}

#[test]
fn shutdown_closes_idle_connections_quickly() {
    let handle = Simulator::start(Config::demo(), Options::default()).unwrap();
    let http = handle.http_addr().unwrap();
    let https = handle.https_addr().unwrap();
    let mut idle = TcpStream::connect(http).unwrap();
    idle.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    let _idle_tls = TcpStream::connect(https).unwrap();
    handle.push_fault(Fault::Delay(Duration::from_secs(60)));
    let delayed = std::thread::spawn(move || {
        let mut connection = Connection::open(http);
        connection.send(&post_bytes(GATEWAY_PATH, &login_body(), false));
        connection.read_to_end()
    });
    // Let the delayed request reach the simulator.
    let deadline = Instant::now() + Duration::from_secs(5);
    while handle.pending_faults() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(handle.pending_faults(), 0);

    let started = Instant::now();
    handle.shutdown();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let mut rest = Vec::new();
    assert_eq!(idle.read_to_end(&mut rest).unwrap_or(0), 0);
    assert!(delayed.join().unwrap().is_empty());
    assert!(TcpStream::connect(http).is_err());
    assert!(TcpStream::connect(https).is_err());
}

#[test]
fn too_many_connections_closed() {
    let options = Options {
        max_connections: 1,
        ..Options::http_only()
    };
    let handle = Simulator::start(Config::demo(), options).unwrap();
    let address = handle.http_addr().unwrap();
    let mut first = Connection::open(address);
    assert_eq!(first.post(&login_body()).status, 200);

    let mut second = Connection::open(address);
    // The simulator may already have closed the socket, so a failed write is fine.
    let _ = std::io::Write::write_all(
        second.reader.get_mut(),
        &post_bytes(GATEWAY_PATH, &login_body(), true),
    );
    assert!(second.read().is_none());

    drop(first);
    // Once the first connection is gone, new ones are served again.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut third = Connection::open(address);
        let _ = std::io::Write::write_all(
            third.reader.get_mut(),
            &post_bytes(GATEWAY_PATH, &login_body(), true),
        );
        if let Some(response) = third.read() {
            assert_eq!(response.status, 200);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the simulator never accepted a new connection"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn invalid_config_rejected_at_start() {
    let error = Simulator::start(Config::new(), Options::http_only()).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(error.to_string().contains("senders"), "{error}");
    let options = Options {
        http_port: None,
        https_port: None,
        ..Options::default()
    };
    let error = Simulator::start(Config::demo(), options).unwrap_err();
    assert!(error.to_string().contains("no listener"), "{error}");
}

#[test]
fn ipv6_loopback_listener() {
    let options = Options {
        bind: std::net::Ipv6Addr::LOCALHOST.into(),
        ..Options::default()
    };
    let Ok(handle) = Simulator::start(Config::demo(), options) else {
        // NOTE: hosts without IPv6 loopback cannot run this case.
        eprintln!("skipping: cannot bind [::1]");
        return;
    };
    let port = handle.http_addr().unwrap().port();
    assert_eq!(
        handle.http_url().unwrap(),
        format!("http://[::1]:{port}/ia/xml/xmlgw.phtml")
    );
    assert!(handle.https_url().unwrap().starts_with("https://[::1]:"));
    let response = post(handle.http_addr().unwrap(), &login_body());
    assert_eq!(response.status, 200);
    let mut connection = TlsConnection::open(&handle, "::1");
    assert_eq!(connection.post(&login_body()).status, 200);
}
