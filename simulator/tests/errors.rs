//! Control-layer, authentication-layer and HTTP-level failures over real TCP.

mod common;

use std::io::Write;

use common::*;
use intacct_simulator::{
    DEMO_COMPANY_ID, DEMO_SENDER_ID, DEMO_SENDER_PASSWORD, DEMO_USER_ID, GATEWAY_PATH, Options,
    Simulator, codes,
};

#[test]
fn wrong_sender_password_is_control_failure() {
    let handle = start_demo();
    let body = request_from(
        DEMO_SENDER_ID,
        "wrong",
        &demo_login(None),
        &get_api_session(Level::Current),
        false,
    );
    let response = post(handle.http_addr().unwrap(), &body);
    assert_eq!(response.status, 200);
    let xml = response.xml();
    assert_eq!(xml.get("control/status"), "failure");
    assert_eq!(xml.get("control/senderid"), DEMO_SENDER_ID);
    assert_eq!(xml.get("control/controlid"), "ctl-1");
    assert_eq!(xml.get("control/uniqueid"), "false");
    assert_eq!(xml.get("control/dtdversion"), "3.0");
    assert_eq!(
        xml.get("errormessage/error/errorno"),
        codes::AUTHENTICATION_FAILED
    );
    assert_eq!(xml.get("errormessage/error/description"), "");
    assert_eq!(
        xml.get("errormessage/error/description2"),
        codes::SENDER_INVALID_TEXT
    );
    assert_eq!(xml.get("errormessage/error/correction"), "");
    assert_eq!(xml.count("operation"), 0);
    assert_eq!(handle.session_count(), 0);
}

#[test]
fn unknown_sender_is_control_failure() {
    let handle = start_demo();
    let body = request_from(
        "nobody",
        DEMO_SENDER_PASSWORD,
        &demo_login(None),
        &get_api_session(Level::Current),
        false,
    );
    let xml = post(handle.http_addr().unwrap(), &body).xml();
    assert_eq!(xml.get("control/status"), "failure");
    assert_eq!(xml.get("control/senderid"), "nobody");
    assert_eq!(
        xml.get("errormessage/error/description2"),
        codes::SENDER_INVALID_TEXT
    );
}

#[test]
fn wrong_password_is_401_with_xml() {
    let handle = start_demo();
    let body = request(
        &login(DEMO_USER_ID, DEMO_COMPANY_ID, "not-the-password", None),
        &get_api_session(Level::Current),
    );

    let response = post(handle.http_addr().unwrap(), &body);
    assert_eq!(response.status, 401);
    assert_eq!(
        response.header("content-type"),
        Some("text/xml; charset=UTF-8")
    );

    let xml = response.xml();
    assert_eq!(xml.get("control/status"), "success");
    assert_eq!(xml.get("operation/authentication/status"), "failure");
    assert_eq!(xml.get("operation/authentication/userid"), DEMO_USER_ID);
    assert_eq!(
        xml.get("operation/authentication/companyid"),
        DEMO_COMPANY_ID
    );
    assert_eq!(xml.get("operation/authentication/locationid"), "");
    assert_eq!(xml.count("operation/authentication/sessiontimestamp"), 0);

    assert_eq!(
        xml.get("operation/errormessage/error/errorno"),
        codes::AUTHENTICATION_FAILED
    );
    assert_eq!(
        xml.get("operation/errormessage/error/description2"),
        codes::SIGN_IN_INVALID_TEXT
    );
    assert_eq!(xml.count("operation/result"), 0);
    assert_eq!(handle.session_count(), 0);
}

#[test]
fn unknown_company_and_user_are_401() {
    let handle = start_demo();
    for authentication in [
        login(DEMO_USER_ID, "NO-SUCH-CO", "x", None),
        login("nobody", DEMO_COMPANY_ID, "x", None),
        login(
            DEMO_USER_ID,
            DEMO_COMPANY_ID,
            intacct_simulator::DEMO_USER_PASSWORD,
            Some("NORTH"),
        ),
    ] {
        let response = post(
            handle.http_addr().unwrap(),
            &request(&authentication, &get_api_session(Level::Current)),
        );
        assert_eq!(response.status, 401, "{authentication}");
        assert_eq!(
            response
                .xml()
                .get("operation/errormessage/error/description2"),
            codes::SIGN_IN_INVALID_TEXT
        );
    }
}

#[test]
fn bad_dtdversion_is_control_failure() {
    let handle = start_demo();
    let body = request(&demo_login(None), &get_api_session(Level::Current)).replace(
        "<dtdversion>3.0</dtdversion>",
        "<dtdversion>2.1</dtdversion>",
    );
    let response = post(handle.http_addr().unwrap(), &body);
    assert_eq!(response.status, 200);
    let xml = response.xml();
    assert_eq!(xml.get("control/status"), "failure");
    assert_eq!(xml.get("control/dtdversion"), "2.1");
    assert_eq!(xml.get("errormessage/error/errorno"), codes::SCHEMA_ERROR);
    let text = xml.get("errormessage/error/description2");
    assert!(text.starts_with(codes::SCHEMA_ERROR_PREFIX), "{text}");
    assert!(text.contains("2.1"), "{text}");
}

#[test]
fn schema_errors_name_the_element() {
    let handle = start_demo();
    let cases = [
        (
            request(&demo_login(None), "<function><getAPISession/></function>"),
            "controlid",
        ),
        (
            request(&demo_login(None), &get_api_session(Level::Current))
                .replace("<senderid>demo-sender</senderid>", ""),
            "senderid",
        ),
        (
            request("", &get_api_session(Level::Current)),
            "neither <login> nor <sessionid>",
        ),
        (String::from("<?xml version=\"1.0\"?><req/>"), "<req>"),
    ];
    for (body, expected) in cases {
        let response = post(handle.http_addr().unwrap(), &body);
        assert_eq!(response.status, 200, "{body}");
        let xml = response.xml();
        assert_eq!(xml.get("control/status"), "failure", "{body}");
        assert_eq!(xml.get("errormessage/error/errorno"), codes::SCHEMA_ERROR);
        let text = xml.get("errormessage/error/description2");
        assert!(text.contains(expected), "{text} lacks {expected}");
    }
}

#[test]
fn malformed_xml_is_gateway_error() {
    let handle = start_demo();
    let body = "<?xml version=\"1.0\"?>\n<request>\n  <control>\n</request>";
    let response = post(handle.http_addr().unwrap(), body);
    assert_eq!(response.status, 400);
    assert_eq!(
        response.header("content-type"),
        Some("text/xml; charset=UTF-8")
    );
    let xml = response.xml();
    assert_eq!(xml.get("control/status"), "failure");
    assert_eq!(xml.count("control/senderid"), 0);
    assert_eq!(
        xml.get("errormessage/error/errorno"),
        codes::GATEWAY_INVALID_REQUEST
    );
    assert_eq!(
        xml.get("errormessage/error/description"),
        codes::GATEWAY_INVALID_REQUEST_DESCRIPTION
    );
    let detail = xml.get("errormessage/error/description2");
    assert!(detail.contains("XML parse error"), "{detail}");
    assert!(detail.contains("4:"), "position missing: {detail}");
}

#[test]
fn empty_and_binary_bodies_are_gateway_errors() {
    let handle = start_demo();
    let mut connection = Connection::open(handle.http_addr().unwrap());
    for body in [&b""[..], &[0xff, 0xfe, 0x00, 0x3c][..]] {
        let mut bytes = format!(
            "POST {GATEWAY_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        bytes.extend_from_slice(body);
        connection.send(&bytes);
        let response = connection.read().unwrap();
        assert_eq!(response.status, 400);
        assert_eq!(
            response.xml().get("errormessage/error/errorno"),
            codes::GATEWAY_INVALID_REQUEST
        );
    }
}

#[test]
fn other_path_is_html_404() {
    let handle = start_demo();
    let mut connection = Connection::open(handle.http_addr().unwrap());
    connection.send(&post_bytes("/ia/xml/other.phtml", "<request/>", false));
    let response = connection.read().unwrap();
    assert_eq!(response.status, 404);
    assert_eq!(
        response.header("content-type"),
        Some("text/html; charset=UTF-8")
    );
    assert!(response.text().contains("Not Found"), "{}", response.text());
    // The connection stays usable.
    let response = connection.post(&request(
        &demo_login(None),
        &get_api_session(Level::Current),
    ));
    assert_eq!(response.status, 200);
}

#[test]
fn get_method_is_405() {
    let handle = start_demo();
    let mut connection = Connection::open(handle.http_addr().unwrap());
    connection.send(format!("GET {GATEWAY_PATH} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    let response = connection.read().unwrap();
    assert_eq!(response.status, 405);
    assert_eq!(response.header("allow"), Some("POST"));
}

#[test]
fn oversized_body_is_413() {
    let handle = start_demo();
    let mut connection = Connection::open(handle.http_addr().unwrap());
    connection.send(
        format!(
            "POST {GATEWAY_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n<request>",
            2 << 20
        )
        .as_bytes(),
    );
    let response = connection.read().unwrap();
    assert_eq!(response.status, 413);
    assert_eq!(response.header("connection"), Some("close"));
    assert!(connection.read_to_end().is_empty());
    assert_eq!(handle.last_request_body(), None);
}

#[test]
fn oversized_chunked_body_is_413() {
    let options = Options {
        max_body_bytes: 1000,
        ..Options::http_only()
    };
    let handle = Simulator::start(intacct_simulator::Config::demo(), options).unwrap();
    let mut connection = Connection::open(handle.http_addr().unwrap());
    let mut bytes =
        format!("POST {GATEWAY_PATH} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            .into_bytes();
    for _ in 0..3 {
        bytes.extend_from_slice(b"190\r\n");
        bytes.extend_from_slice(&[b'a'; 0x190]);
        bytes.extend_from_slice(b"\r\n");
    }
    connection.send(&bytes);
    let response = connection.read().unwrap();
    assert_eq!(response.status, 413);
}

#[test]
fn oversized_head_is_431() {
    let handle = start_demo();
    let mut connection = Connection::open(handle.http_addr().unwrap());
    let padding = "a".repeat(20_000);
    connection.send(
        format!("POST {GATEWAY_PATH} HTTP/1.1\r\nHost: x\r\nX-Big: {padding}\r\n\r\n").as_bytes(),
    );
    let response = connection.read().unwrap();
    assert_eq!(response.status, 431);
}

#[test]
fn garbage_request_line_is_400() {
    let handle = start_demo();
    let mut connection = Connection::open(handle.http_addr().unwrap());
    connection.send(b"\x16\x03\x01 not http at all\r\n\r\n");
    let response = connection.read().unwrap();
    assert_eq!(response.status, 400);
    assert!(connection.read_to_end().is_empty());
    // The simulator still serves others.
    let response = post(
        handle.http_addr().unwrap(),
        &request(&demo_login(None), &get_api_session(Level::Current)),
    );
    assert_eq!(response.status, 200);
}

#[test]
fn conflicting_framing_is_400() {
    let handle = start_demo();
    let mut connection = Connection::open(handle.http_addr().unwrap());
    connection.send(
        format!("POST {GATEWAY_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n")
            .as_bytes(),
    );
    assert_eq!(connection.read().unwrap().status, 400);
}

#[test]
fn chunked_request_body_accepted() {
    let handle = start_demo();
    let body = request(&demo_login(None), &get_api_session(Level::Current));
    let mut bytes = format!(
        "POST {GATEWAY_PATH} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
    )
    .into_bytes();
    for chunk in body.as_bytes().chunks(100) {
        bytes.extend_from_slice(format!("{:x};ext=1\r\n", chunk.len()).as_bytes());
        bytes.extend_from_slice(chunk);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"0\r\nX-Trailer: 1\r\n\r\n");
    let mut connection = Connection::open(handle.http_addr().unwrap());
    connection.send(&bytes);
    // `read` skips the interim 100 Continue response.
    let response = connection.read().unwrap();
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.xml().get("operation/result/status"), "success");
    assert_eq!(handle.last_request_body().as_deref(), Some(body.as_str()));
}

#[test]
fn random_inputs_never_break_the_simulator() {
    let handle = start_demo();
    let address = handle.http_addr().unwrap();
    let valid = request(&demo_login(None), &get_api_session(Level::Current));
    // A fixed xorshift sequence keeps failures reproducible.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut connection = Connection::open(address);
    for round in 0..150 {
        let mut body = valid.clone().into_bytes();
        // Cut the document and flip a few bytes.
        let cut = (next() as usize) % body.len();
        body.truncate(cut.max(1));
        for _ in 0..(next() % 4) {
            let index = (next() as usize) % body.len();
            body[index] = (next() & 0xff) as u8;
        }
        let mut bytes = format!(
            "POST {GATEWAY_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        bytes.extend_from_slice(&body);
        connection.send(&bytes);
        let response = connection
            .read()
            .unwrap_or_else(|| panic!("round {round}: no response"));
        assert!(
            [200, 400, 401].contains(&response.status),
            "round {round}: status {}",
            response.status
        );
        assert!(
            roxmltree::Document::parse(response.text()).is_ok(),
            "round {round}: response is not XML:\n{}",
            response.text()
        );
    }
    let response = connection.post(&valid);
    assert_eq!(response.status, 200);
    assert_eq!(handle.requests_received(), 151);
}

#[test]
fn client_disconnect_mid_body_is_harmless() {
    let handle = start_demo();
    {
        let mut connection = Connection::open(handle.http_addr().unwrap());
        connection
            .reader
            .get_mut()
            .write_all(
                format!(
                    "POST {GATEWAY_PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n<req"
                )
                .as_bytes(),
            )
            .unwrap();
    }
    let response = post(
        handle.http_addr().unwrap(),
        &request(&demo_login(None), &get_api_session(Level::Current)),
    );
    assert_eq!(response.status, 200);
}
