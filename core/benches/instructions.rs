//! Instruction counts of the core's per-request work, for
//! `valgrind --tool=callgrind`; see docs/benchmarks.md for the command and
//! the results.
//!
//! Usage: `instructions OPERATION ITERATIONS`, where OPERATION is `write`,
//! `parse` or `http`. Running an operation 0 and N times and dividing the
//! difference by N gives the instructions per operation, without the
//! program's start-up.

use intacct_core::http::{Progress, ResponseReader};
use intacct_core::request::{Authentication, Control, GetApiSession, Login, Request, Sender};
use intacct_core::response::Response;
use std::hint::black_box;

const BODY: &str = include_str!("success_response.xml");

fn write_request(buf: &mut [u8]) -> usize {
    let request = Request {
        control: Control::new(
            Sender {
                sender_id: "demo-sender",
                sender_password: "demo-sender-pass",
            },
            "3f0c5b7e-2a41-4c1e-9d55-0d3c2f6a9b10",
        ),
        authentication: Authentication::Login(Login {
            user_id: "demo-user",
            company_id: "DEMO-CO",
            password: "p&ss<word>",
            location_id: None,
        }),
        function_control_id: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        function: GetApiSession::entity("EAST"),
    };
    request.write_to_slice(buf).unwrap_or(0)
}

fn parse_response() -> bool {
    let Ok(response) = Response::parse(black_box(BODY.as_bytes())) else {
        return false;
    };
    response.check_status(Some(200)).is_ok()
        && black_box(response.api_session()).is_ok()
        && black_box(response.authentication_info()).is_ok()
}

fn read_http(input: &[u8], head: &mut [u8], body: &mut [u8]) -> usize {
    let mut reader = ResponseReader::new(head, body);
    let mut rest = input;
    loop {
        let Ok(buffer) = reader.read_buffer() else {
            return 0;
        };
        let n = buffer.len().min(rest.len()).min(536);
        buffer[..n].copy_from_slice(&rest[..n]);
        rest = &rest[n..];
        match reader.advance(n) {
            Ok(Progress::Complete) => return reader.response().map_or(0, |r| r.body.len()),
            Ok(Progress::NeedMore) => {}
            Err(_) => return 0,
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let operation = args.next().unwrap_or_default();
    let iterations: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(0);

    let mut http_input = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-Length: {}\r\n\r\n",
        BODY.len()
    )
    .into_bytes();
    http_input.extend_from_slice(BODY.as_bytes());
    let mut buf = vec![0u8; 2048];
    let mut head = vec![0u8; 2048];
    let mut body = vec![0u8; 4096];

    for _ in 0..iterations {
        match operation.as_str() {
            "write" => {
                black_box(write_request(black_box(&mut buf)));
            }
            "parse" => {
                black_box(parse_response());
            }
            "http" => {
                black_box(read_http(black_box(&http_input), &mut head, &mut body));
            }
            _ => {}
        }
    }
}
