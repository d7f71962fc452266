//! Client behaviour under faults the simulator cannot produce, through an
//! in-memory transport that plays back scripted responses.

use super::*;
use crate::endpoint::DEFAULT_ENDPOINT;
use crate::request::{Login, SequentialControlIds};
use crate::session::Clock;
use std::cell::RefCell;
use std::format;
use std::rc::Rc;
use std::string::String;
use std::vec::Vec;

/// Each connection returns the next scripted response, then reads 0.
struct Scripted {
    responses: Rc<RefCell<Vec<Vec<u8>>>>,
    sent: Rc<RefCell<Vec<Vec<u8>>>>,
}

struct ScriptedConnection {
    response: Vec<u8>,
    read: usize,
    sent: Rc<RefCell<Vec<Vec<u8>>>>,
}

impl Transport for Scripted {
    type Connection = ScriptedConnection;
    type Error = &'static str;

    fn connect(&mut self, _target: Target<'_>) -> Result<ScriptedConnection, &'static str> {
        let mut responses = self.responses.borrow_mut();
        if responses.is_empty() {
            return Err("no scripted response left");
        }
        self.sent.borrow_mut().push(Vec::new());
        Ok(ScriptedConnection {
            response: responses.remove(0),
            read: 0,
            sent: self.sent.clone(),
        })
    }
}

impl embedded_io::ErrorType for ScriptedConnection {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for ScriptedConnection {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let rest = &self.response[self.read..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.read += n;
        Ok(n)
    }
}

impl embedded_io::Write for ScriptedConnection {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        if let Some(last) = self.sent.borrow_mut().last_mut() {
            last.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[derive(Default)]
struct NoWait {
    delays: Vec<u32>,
}

impl Clock for NoWait {
    fn now_ms(&self) -> u64 {
        0
    }
}

impl Timer for NoWait {
    fn delay_ms(&mut self, ms: u32) {
        self.delays.push(ms);
    }
}

const SENDER: Sender<'static> = Sender {
    sender_id: "sender",
    sender_password: "SENDERSECRET",
};

const LOGIN: Login<'static> = Login {
    user_id: "user",
    company_id: "CO",
    password: "USERSECRET",
    location_id: None,
};

fn success_body(control_id: &str, function_control_id: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response><control><status>success</status>\
         <controlid>{control_id}</controlid></control><operation><authentication>\
         <status>success</status><userid>user</userid><companyid>CO</companyid>\
         <sessiontimestamp>2026-01-01T00:00:00Z</sessiontimestamp>\
         <sessiontimeout>2026-01-01 00:30:00</sessiontimeout></authentication>\
         <result><status>success</status><function>getAPISession</function>\
         <controlid>{function_control_id}</controlid><data><api><sessionid>SESSIONSECRET..</sessionid>\
         <endpoint>https://api.intacct.com/ia/xml/xmlgw.phtml</endpoint><locationid/></api></data>\
         </result></operation></response>"
    )
}

fn with_length(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn close_delimited(body: &str) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nConnection: close\r\n\r\n{body}")
        .into_bytes()
}

struct Run {
    result: Result<Session, ClientError<&'static str>>,
    delays: Vec<u32>,
    sent: Vec<Vec<u8>>,
    buffers_debug: String,
    body_buffer: Vec<u8>,
}

fn run(responses: Vec<Vec<u8>>) -> Run {
    let sent = Rc::new(RefCell::new(Vec::new()));
    let transport = Scripted {
        responses: Rc::new(RefCell::new(responses)),
        sent: sent.clone(),
    };
    let mut timer = NoWait::default();
    let mut client = Client::new(
        transport,
        &mut timer,
        SequentialControlIds::new("t"),
        Config::new(SENDER),
    );
    let mut head = [0u8; DEFAULT_HEAD_BUFFER];
    let mut body = [0u8; DEFAULT_BODY_BUFFER];
    let mut buffers = Buffers {
        head: &mut head,
        body: &mut body,
    };
    let result = client.get_session(
        DEFAULT_ENDPOINT,
        Authentication::Login(LOGIN),
        SessionLocation::Current,
        &mut buffers,
    );
    let buffers_debug = format!("{buffers:?}");
    drop(client);
    let sent = sent.borrow().clone();
    Run {
        result,
        delays: timer.delays,
        sent,
        buffers_debug,
        body_buffer: body.to_vec(),
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[test]
fn cut_off_close_delimited_body_is_retried() {
    let body = success_body("t-1", "t-2");
    let run = run(std::vec![
        close_delimited(&body[..body.len() / 2]),
        close_delimited(&body),
    ]);
    let session = run.result.unwrap();
    assert_eq!(session.session_id.expose(), "SESSIONSECRET..");
    assert_eq!(run.delays, [1000]);
    assert_eq!(run.sent.len(), 2);
    assert_eq!(run.sent[0], run.sent[1], "the retry sends identical bytes");
}

#[test]
fn malformed_timeout_keeps_session_with_unknown_lifetime() {
    let run = run(std::vec![with_length(
        "200 OK",
        "text/xml",
        &success_body("t-1", "t-2")
    )]);
    let session = run.result.unwrap();
    assert_eq!(session.lifetime.session_timeout, None);
    assert_eq!(session.lifetime.remaining_ms(u64::MAX), None);
    assert_eq!(session.user_id.as_str(), "user");
}

#[test]
fn failure_for_another_request_is_a_mismatch() {
    let body = "<response><control><status>success</status><controlid>OTHER</controlid></control>\
         <operation><authentication><status>failure</status></authentication><errormessage><error>\
         <errorno>XL03000006</errorno><description2>Invalid session</description2></error>\
         </errormessage></operation></response>";
    let run = run(std::vec![with_length("401 Unauthorized", "text/xml", body)]);
    let error = run.result.unwrap_err();
    assert!(
        matches!(
            error,
            ClientError::Response(crate::response::ResponseError::ControlIdMismatch {
                field: "controlid"
            })
        ),
        "{error:?}"
    );
}

#[test]
fn html_doctype_with_200_is_unexpected_content() {
    let run = run(std::vec![with_length(
        "200 OK",
        "text/html",
        "<!doctype html><html><body>maintenance</body></html>"
    )]);
    let error = run.result.unwrap_err();
    let ClientError::UnexpectedContent { status, body_start } = error else {
        panic!("expected unexpected content, got {error:?}");
    };
    assert_eq!(status, 200);
    assert!(format!("{body_start}").starts_with("<!doctype html>"));
}

#[test]
fn large_cdn_page_is_retried() {
    let page = format!(
        "<!DOCTYPE html><html>{}</html>",
        "x".repeat(2 * DEFAULT_BODY_BUFFER)
    );
    let run = run(std::vec![
        with_length("503 Service Unavailable", "text/html", &page),
        with_length("200 OK", "text/xml", &success_body("t-1", "t-2")),
    ]);
    assert!(run.result.is_ok(), "{:?}", run.result);
    assert_eq!(run.delays, [1000]);
}

#[test]
fn buffers_hold_no_secrets_after_a_call() {
    // A short failure leaves most of the body buffer as the request was
    // staged there: the client must have cleared it.
    let body = "<response><control><status>failure</status></control></response>";
    let run = run(std::vec![with_length("200 OK", "text/xml", body)]);
    assert!(run.result.is_err());
    assert!(!contains(&run.body_buffer, "USERSECRET"));
    assert!(!contains(&run.body_buffer, "SENDERSECRET"));
    assert!(!run.buffers_debug.contains("USERSECRET"));
    assert!(
        run.sent
            .iter()
            .all(|request| contains(request, "USERSECRET"))
    );
}

#[test]
fn debug_output_hides_session_ids() {
    let body = success_body("t-1", "t-2");
    let response = Response::parse(body.as_bytes()).unwrap();
    let text = format!("{response:?}");
    assert!(!text.contains("SESSIONSECRET"), "{text}");
    let exchange = Exchange {
        status: 200,
        body: body.as_bytes(),
        attempts: 1,
    };
    let text = format!("{exchange:?}");
    assert!(!text.contains("SESSIONSECRET"), "{text}");
}
