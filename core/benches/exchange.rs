//! Benchmarks of the core's per-request work: writing a request, reading the
//! HTTP response and reading the XML body. Results are in
//! docs/benchmarks.md.

use criterion::{Criterion, criterion_group, criterion_main};
use intacct_core::http::{Progress, ResponseReader};
use intacct_core::request::{Authentication, Control, GetApiSession, Login, Request, Sender};
use intacct_core::response::Response;
use std::hint::black_box;

const BODY: &str = include_str!("success_response.xml");

fn request() -> Request<'static, GetApiSession<'static>> {
    Request {
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
    }
}

fn http_response(chunked: bool) -> Vec<u8> {
    if chunked {
        let mut out = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=UTF-8\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for chunk in BODY.as_bytes().chunks(100) {
            out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            out.extend_from_slice(chunk);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    } else {
        let mut out = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-Length: {}\r\n\r\n",
            BODY.len()
        )
        .into_bytes();
        out.extend_from_slice(BODY.as_bytes());
        out
    }
}

/// Feeds `input` to a reader in reads of at most 536 bytes (a typical TCP
/// segment payload on a small device) and returns the body length.
fn read_http(input: &[u8], head: &mut [u8], body: &mut [u8]) -> usize {
    let mut reader = ResponseReader::new(head, body);
    let mut rest = input;
    loop {
        let buffer = reader.read_buffer().unwrap();
        let n = buffer.len().min(rest.len()).min(536);
        buffer[..n].copy_from_slice(&rest[..n]);
        rest = &rest[n..];
        if reader.advance(n).unwrap() == Progress::Complete {
            return reader.response().unwrap().body.len();
        }
    }
}

fn benches(c: &mut Criterion) {
    let request = request();
    let mut buf = vec![0u8; 2048];
    c.bench_function("request/write_to_slice", |b| {
        b.iter(|| {
            black_box(&request)
                .write_to_slice(black_box(&mut buf))
                .unwrap()
        })
    });

    c.bench_function("response/parse_and_copy_session", |b| {
        b.iter(|| {
            let response = Response::parse(black_box(BODY.as_bytes())).unwrap();
            response.check_status(Some(200)).unwrap();
            let session = response.api_session().unwrap();
            let auth = response.authentication_info().unwrap();
            black_box((session, auth))
        })
    });

    for (name, chunked) in [
        ("http/read_content_length", false),
        ("http/read_chunked", true),
    ] {
        let input = http_response(chunked);
        let mut head = vec![0u8; 2048];
        let mut body = vec![0u8; 4096];
        c.bench_function(name, |b| {
            b.iter(|| read_http(black_box(&input), &mut head, &mut body))
        });
    }
}

criterion_group!(core_benches, benches);
criterion_main!(core_benches);
