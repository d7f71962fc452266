//! Response documents in the shapes the gateway sends.

use super::*;
use std::format;

const SUCCESS_ENTITY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<response>
      <control>
            <status>success</status>
            <senderid>testsenderid</senderid>
            <controlid>ctl-1</controlid>
            <uniqueid>false</uniqueid>
            <dtdversion>3.0</dtdversion>
      </control>
      <operation>
            <authentication>
                  <status>success</status>
                  <userid>testuser</userid>
                  <companyid>testcompany</companyid>
                  <locationid>EAST</locationid>
                  <sessiontimestamp>2015-12-06T15:57:08-08:00</sessiontimestamp>
                  <sessiontimeout>2015-12-06T21:57:08-08:00</sessiontimeout>
            </authentication>
            <result>
                  <status>success</status>
                  <function>getAPISession</function>
                  <controlid>fn-1</controlid>
                  <data>
                        <api>
                              <sessionid>unittest..</sessionid>
                              <endpoint>https://unittest.intacct.com/ia/xml/xmlgw.phtml</endpoint>
                              <locationid>EAST</locationid>
                        </api>
                  </data>
            </result>
      </operation>
</response>
"#;

fn success_with_location(location: &str) -> std::string::String {
    SUCCESS_ENTITY.replace(
        "<locationid>EAST</locationid>\n                        </api>",
        &format!("{location}\n                        </api>"),
    )
}

const CONTROL_FAILURE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<response>
  <control>
    <status>failure</status>
    <senderid>testsenderid</senderid>
    <controlid>ctl-1</controlid>
    <uniqueid>false</uniqueid>
    <dtdversion>3.0</dtdversion>
  </control>
  <errormessage>
    <error>
      <errorno>XL03000006</errorno>
      <description></description>
      <description2>Incorrect Intacct XML Partner ID or password.</description2>
      <correction></correction>
    </error>
  </errormessage>
</response>"#;

const AUTH_FAILURE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<response>
  <control>
    <status>success</status>
    <senderid>testsenderid</senderid>
    <controlid>ctl-1</controlid>
    <uniqueid>false</uniqueid>
    <dtdversion>3.0</dtdversion>
  </control>
  <operation>
    <authentication>
      <status>failure</status>
      <userid>testuser</userid>
      <companyid>testcompany</companyid>
      <locationid></locationid>
    </authentication>
    <errormessage>
      <error>
        <errorno>XL03000006</errorno>
        <description/>
        <description2>Sign-in information is incorrect</description2>
        <correction/>
      </error>
    </errormessage>
  </operation>
</response>"#;

const RESULT_FAILURE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<response>
  <control><status>success</status><senderid>s</senderid><controlid>ctl-1</controlid><uniqueid>false</uniqueid><dtdversion>3.0</dtdversion></control>
  <operation>
    <authentication><status>success</status><userid>u</userid><companyid>c</companyid><sessiontimestamp>2026-01-01T00:00:00+00:00</sessiontimestamp></authentication>
    <result>
      <status>failure</status>
      <function>getAPISession</function>
      <controlid>fn-1</controlid>
      <errormessage>
        <error><errorno>BL34000061</errorno><description>Invalid location</description><description2>Location NORTH does not exist</description2><correction>Use an existing location ID</correction></error>
        <error><errorno>BL01001973</errorno><description></description><description2>Could not create API session</description2><correction></correction></error>
      </errormessage>
    </result>
  </operation>
</response>"#;

const GATEWAY_ERROR: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<response><control><status>failure</status></control>
<errormessage><error><errorno>GW-0011</errorno><description>An unknown error occurred.</description><description2>XML parse error near line 1</description2><correction/></error></errormessage></response>"#;

fn parse(text: &str) -> Response<'_> {
    Response::parse(text.as_bytes()).unwrap()
}

#[test]
fn success_for_entity() {
    let response = parse(SUCCESS_ENTITY);
    response.check_status(Some(200)).unwrap();
    response.check_control_ids("ctl-1", "fn-1").unwrap();
    let session = response.api_session().unwrap();
    assert_eq!(session.session_id.expose(), "unittest..");
    assert_eq!(
        session.endpoint.as_str(),
        "https://unittest.intacct.com/ia/xml/xmlgw.phtml"
    );
    assert_eq!(session.location.entity(), Some("EAST"));

    let auth = response.authentication_info().unwrap().unwrap();
    assert_eq!(auth.user_id.as_str(), "testuser");
    assert_eq!(auth.company_id.as_str(), "testcompany");
    assert_eq!(auth.location.entity(), Some("EAST"));
    assert_eq!(auth.session_timestamp, Some(1_449_446_228));
    assert_eq!(auth.session_timeout, Some(1_449_446_228 + 6 * 3600));
}

#[test]
fn success_three_location_forms() {
    let top = success_with_location("<locationid></locationid>");
    let top_empty_tag = success_with_location("<locationid/>");
    let absent = success_with_location("");
    assert_eq!(
        parse(&top).api_session().unwrap().location,
        Location::TopLevel
    );
    assert_eq!(
        parse(&top_empty_tag).api_session().unwrap().location,
        Location::TopLevel
    );
    assert_eq!(
        parse(&absent).api_session().unwrap().location,
        Location::Unstated
    );
}

#[test]
fn control_failure_is_control_layer() {
    let response = parse(CONTROL_FAILURE);
    let ResponseError::Gateway(error) = response.check_status(Some(200)).unwrap_err() else {
        panic!("expected a gateway error");
    };
    assert_eq!(error.layer, Layer::Control);
    assert_eq!(error.status, Status::Failure);
    assert_eq!(error.error_count(), 1);
    assert_eq!(error.error(0).unwrap().errorno, "XL03000006");
    assert_eq!(error.error(0).unwrap().description, "");
    assert_eq!(
        error.error(0).unwrap().description2,
        "Incorrect Intacct XML Partner ID or password."
    );
    assert!(!error.is_gateway_error());
    response.check_control_ids("ctl-1", "fn-1").unwrap();
}

#[test]
fn authentication_failure_with_401() {
    let response = parse(AUTH_FAILURE);
    let ResponseError::Gateway(error) = response.check_status(Some(401)).unwrap_err() else {
        panic!("expected a gateway error");
    };
    assert_eq!(error.layer, Layer::Authentication);
    assert_eq!(error.http_status, Some(401));
    assert_eq!(
        error.error(0).unwrap().description2,
        "Sign-in information is incorrect"
    );
    let text = format!("{error}");
    assert_eq!(
        text,
        "gateway authentication failed (HTTP 401): XL03000006: Sign-in information is incorrect"
    );
}

#[test]
fn result_failure_keeps_every_error_in_order() {
    let response = parse(RESULT_FAILURE);
    let ResponseError::Gateway(error) = response.check_status(None).unwrap_err() else {
        panic!("expected a gateway error");
    };
    assert_eq!(error.layer, Layer::Result);
    assert_eq!(error.error_count(), 2);
    assert_eq!(error.error(0).unwrap().errorno, "BL34000061");
    assert_eq!(
        error.error(0).unwrap().correction,
        "Use an existing location ID"
    );
    assert_eq!(error.error(1).unwrap().errorno, "BL01001973");
    assert_eq!(error.omitted, 0);
    let auth = response.authentication_info().unwrap().unwrap();
    assert_eq!(
        auth.session_timeout, None,
        "a missing timeout is unknown, not expired"
    );
    assert_eq!(auth.location, Location::Unstated);
}

#[test]
fn result_aborted() {
    let text = RESULT_FAILURE.replace("<status>failure</status>", "<status>aborted</status>");
    let ResponseError::Gateway(error) = parse(&text).check_status(None).unwrap_err() else {
        panic!("expected a gateway error");
    };
    assert_eq!(error.status, Status::Aborted);
    assert!(format!("{error}").starts_with("gateway result aborted"));
}

#[test]
fn gateway_error_recognised() {
    let response = parse(GATEWAY_ERROR);
    let ResponseError::Gateway(error) = response.check_status(Some(400)).unwrap_err() else {
        panic!("expected a gateway error");
    };
    assert_eq!(error.layer, Layer::Control);
    assert!(error.is_gateway_error());
    assert!(error.has_errorno("GW-0011"));
    // The failure has no controlid echo, which is not a mismatch.
    response.check_control_ids("ctl-1", "fn-1").unwrap();
}

#[test]
fn more_errors_than_capacity_are_counted() {
    let item = "<error><errorno>E</errorno><description2>x</description2></error>";
    let items = item.repeat(MAX_ERRORS + 3);
    let text = format!(
        "<response><control><status>failure</status></control><errormessage>{items}</errormessage></response>"
    );
    let ResponseError::Gateway(error) = parse(&text).check_status(None).unwrap_err() else {
        panic!("expected a gateway error");
    };
    assert_eq!(error.error_count(), MAX_ERRORS);
    assert_eq!(error.omitted, 3);
    assert!(format!("{error}").ends_with("and 3 more errors not kept"));
}

#[test]
fn long_error_text_truncated_and_flagged() {
    let long = "é".repeat(ERROR_TEXT_CAPACITY);
    let text = format!(
        "<response><control><status>failure</status></control><errormessage><error><errorno>X</errorno><description>{long}</description></error></errormessage></response>"
    );
    let ResponseError::Gateway(error) = parse(&text).check_status(None).unwrap_err() else {
        panic!("expected a gateway error");
    };
    assert!(error.error(0).unwrap().truncated);
    assert_eq!(
        error.error(0).unwrap().description.len(),
        ERROR_TEXT_CAPACITY
    );
    assert!(format!("{error}").contains("[text truncated]"));
}

#[test]
fn error_fields_may_be_missing() {
    let text = "<response><control><status>failure</status></control><errormessage><error/></errormessage></response>";
    let ResponseError::Gateway(error) = parse(text).check_status(None).unwrap_err() else {
        panic!("expected a gateway error");
    };
    assert_eq!(error.error_count(), 1);
    assert_eq!(error.error(0).unwrap(), ErrorDetail::default());
}

#[test]
fn references_and_cdata_decoded_once() {
    let text = success_with_location("<locationid>A&amp;B&#x20;&#67;<![CDATA[&lt;]]></locationid>");
    let session = parse(&text).api_session().unwrap();
    assert_eq!(session.location.entity(), Some("A&B C&lt;"));
}

#[test]
fn tolerates_bom_whitespace_comments_unknown_elements() {
    let text = std::format!(
        "\u{FEFF}\n  {}",
        SUCCESS_ENTITY
            .replace(
                "<control>",
                "<!-- note --><control><extra a=\"1\"><deeper/></extra>"
            )
            .replace("</response>", "</response>\n\n")
    );
    let response = parse(&text);
    response.check_status(None).unwrap();
    assert_eq!(
        response.api_session().unwrap().session_id.expose(),
        "unittest.."
    );
}

#[test]
fn control_id_mismatch_detected() {
    let response = parse(SUCCESS_ENTITY);
    assert_eq!(
        response.check_control_ids("other", "fn-1"),
        Err(ResponseError::ControlIdMismatch { field: "controlid" })
    );
    assert_eq!(
        response.check_control_ids("ctl-1", "fn-2"),
        Err(ResponseError::ControlIdMismatch {
            field: "function controlid"
        })
    );
    let without_echo = SUCCESS_ENTITY.replace("<controlid>ctl-1</controlid>", "");
    assert_eq!(
        parse(&without_echo).check_control_ids("ctl-1", "fn-1"),
        Err(ResponseError::ControlIdMismatch { field: "controlid" })
    );
}

#[test]
fn data_slice_is_borrowed_whole() {
    let response = parse(SUCCESS_ENTITY);
    let data = response.result.unwrap().data.unwrap();
    assert!(data.starts_with("<data>"));
    assert!(data.ends_with("</data>"));
    assert!(data.contains("<sessionid>unittest..</sessionid>"));
}

#[test]
fn malformed_documents_rejected_with_offset() {
    let cases: &[(&[u8], ParseErrorKind, usize)] = &[
        (b"", ParseErrorKind::Empty, 0),
        (b"   ", ParseErrorKind::Empty, 3),
        (
            b"<html><body>502 Bad Gateway</body></html>",
            ParseErrorKind::NotAResponse,
            0,
        ),
        (
            b"<response><control></status></response>",
            ParseErrorKind::MismatchedTag,
            19,
        ),
        (b"<response><control>", ParseErrorKind::UnexpectedEnd, 19),
        (
            b"<response>\xff</response>",
            ParseErrorKind::InvalidUtf8,
            10,
        ),
        (
            b"<response><control><status>succ&bogus;</status></control></response>",
            ParseErrorKind::InvalidText {
                field: "control/status",
                error: crate::xml::text::TextError::UnknownEntity,
            },
            31,
        ),
        (
            b"<response><control><status><b/></status></control></response>",
            ParseErrorKind::UnexpectedChild {
                field: "control/status",
            },
            19,
        ),
        (
            b"<response><control><status>a</status><status>b</status></control></response>",
            ParseErrorKind::Duplicate {
                field: "control/status",
            },
            37,
        ),
        (
            b"<response><operation><result></result><result></result></operation></response>",
            ParseErrorKind::MultipleResults,
            38,
        ),
        (
            b"<response></response><response></response>",
            ParseErrorKind::Syntax,
            21,
        ),
    ];
    for &(body, kind, offset) in cases {
        let err = Response::parse(body).unwrap_err();
        assert_eq!(
            err.kind,
            kind,
            "{:?}",
            std::string::String::from_utf8_lossy(body)
        );
        assert_eq!(
            err.offset,
            offset,
            "{:?}",
            std::string::String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn syntax_error_has_offset() {
    let err = Response::parse(b"<response>\n<control <</control></response>").unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::Syntax);
    assert!(
        err.offset >= 11 && err.offset <= 21,
        "offset {}",
        err.offset
    );
}

#[test]
fn nesting_bound_enforced_without_recursion() {
    let deep = std::format!("<response>{}", "<a>".repeat(10_000));
    let err = Response::parse(deep.as_bytes()).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::TooDeep);
    assert_eq!(err.offset, 10 + 3 * (MAX_DEPTH - 1));
}

#[test]
fn missing_control_status_is_the_only_required_element() {
    let text = "<response><control/></response>";
    assert_eq!(
        parse(text).check_status(None),
        Err(ResponseError::Parse(ParseError {
            kind: ParseErrorKind::Missing {
                field: "control/status"
            },
            offset: 0
        }))
    );
}

#[test]
fn malformed_timestamp_is_an_error() {
    let text = SUCCESS_ENTITY.replace("2015-12-06T21:57:08-08:00", "tomorrow");
    let err = parse(&text).authentication_info().unwrap_err();
    assert!(matches!(
        err,
        ResponseError::Timestamp {
            field: "sessiontimeout",
            ..
        }
    ));
}

#[test]
fn oversized_session_id_names_field() {
    let long = "x".repeat(SESSION_ID_CAPACITY + 1);
    let text = SUCCESS_ENTITY.replace("unittest..", &long);
    assert_eq!(
        parse(&text).api_session(),
        Err(ResponseError::Capacity(CapacityError {
            field: "sessionid",
            capacity: SESSION_ID_CAPACITY
        }))
    );
}

#[test]
fn session_id_debug_is_redacted() {
    let session = parse(SUCCESS_ENTITY).api_session().unwrap();
    let text = format!("{session:?}");
    assert!(!text.contains("unittest.."), "{text}");
}

proptest::proptest! {
    #[test]
    fn parse_never_panics_on_bytes(body in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
        if let Ok(response) = Response::parse(&body) {
            let _ = response.check_status(Some(200));
            let _ = response.api_session();
            let _ = response.authentication_info();
        }
    }

    #[test]
    fn parse_never_panics_on_mutated_response(
        edits in proptest::collection::vec((0usize..SUCCESS_ENTITY.len(), proptest::num::u8::ANY), 1..8),
        cut in 0usize..=SUCCESS_ENTITY.len(),
    ) {
        let mut body = SUCCESS_ENTITY.as_bytes().to_vec();
        for (position, byte) in edits {
            body[position] = byte;
        }
        body.truncate(cut);
        match Response::parse(&body) {
            Ok(response) => {
                let _ = response.check_status(Some(200));
                let _ = response.check_control_ids("ctl-1", "fn-1");
                let _ = response.api_session();
                let _ = response.authentication_info();
            }
            Err(error) => proptest::prop_assert!(error.offset <= body.len()),
        }
    }
}

#[test]
fn text_pool_keeps_every_errorno() {
    let long = "x".repeat(ERROR_TEXT_CAPACITY);
    let text = format!(
        "<response><control><status>failure</status></control><errormessage>\
         <error><errorno>E1</errorno><description>{long}</description></error>\
         <error><errorno>E2</errorno><description2>second</description2></error>\
         </errormessage></response>"
    );
    let ResponseError::Gateway(error) = parse(&text).check_status(None).unwrap_err() else {
        panic!("expected a gateway error");
    };
    assert_eq!(error.error_count(), 2);
    let first = error.error(0).unwrap();
    let second = error.error(1).unwrap();
    assert_eq!(first.errorno, "E1");
    assert_eq!(first.description.len(), ERROR_TEXT_CAPACITY);
    assert!(!first.truncated);
    assert_eq!(second.errorno, "E2");
    assert_eq!(second.description2, "");
    assert!(second.truncated, "the pool was full, so the text was cut");
}

#[test]
fn gateway_error_is_small() {
    // The error travels through several stack frames on a device; keep it
    // near the size of its text pool.
    let size = core::mem::size_of::<GatewayError>();
    assert!(
        size < ERROR_TEXT_CAPACITY + 320,
        "GatewayError is {size} bytes"
    );
}

#[test]
fn malformed_timestamp_tolerated_as_unknown() {
    let text = SUCCESS_ENTITY.replace("2015-12-06T21:57:08-08:00", "2015-12-06 21:57:08");
    let auth = parse(&text)
        .authentication_info_or_unknown_lifetime()
        .unwrap()
        .unwrap();
    assert_eq!(auth.user_id.as_str(), "testuser");
    assert_eq!(auth.session_timestamp, None);
    assert_eq!(auth.session_timeout, None);
}
