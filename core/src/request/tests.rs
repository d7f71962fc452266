use super::*;
use crate::xml::escape::BufferTooSmall;
use std::string::String;
use std::vec::Vec;

const SENDER: Sender<'static> = Sender {
    sender_id: "testsender",
    sender_password: "pass123!",
};

fn login_request(location: SessionLocation<'_>) -> Request<'_, GetApiSession<'_>> {
    Request {
        control: Control::new(SENDER, "unittest"),
        authentication: Authentication::Login(Login {
            user_id: "testuser",
            company_id: "testcompany",
            password: "testpass",
            location_id: None,
        }),
        function_control_id: "func1",
        function: GetApiSession { location },
    }
}

fn written(request: &Request<'_, GetApiSession<'_>>) -> String {
    let mut buf = [0u8; 2048];
    let len = request.write_to_slice(&mut buf).unwrap();
    assert_eq!(len, request.encoded_len().unwrap());
    String::from_utf8(buf[..len].to_vec()).unwrap()
}

#[test]
fn request_login_current_level_exact() {
    let expected = concat!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
        "<request><control><senderid>testsender</senderid><password>pass123!</password>",
        "<controlid>unittest</controlid><uniqueid>false</uniqueid><dtdversion>3.0</dtdversion>",
        "<includewhitespace>false</includewhitespace></control>",
        "<operation transaction=\"false\"><authentication><login><userid>testuser</userid>",
        "<companyid>testcompany</companyid><password>testpass</password></login></authentication>",
        "<content><function controlid=\"func1\"><getAPISession/></function></content>",
        "</operation></request>"
    );
    assert_eq!(written(&login_request(SessionLocation::Current)), expected);
}

#[test]
fn request_three_location_forms_differ() {
    let current = written(&login_request(SessionLocation::Current));
    let top = written(&login_request(SessionLocation::TopLevel));
    let entity = written(&login_request(SessionLocation::Entity("E100")));
    assert!(current.contains("<getAPISession/>"));
    assert!(top.contains("<getAPISession><locationid/></getAPISession>"));
    assert!(entity.contains("<getAPISession><locationid>E100</locationid></getAPISession>"));
}

#[test]
fn request_empty_entity_rejected() {
    let err = login_request(SessionLocation::Entity(""))
        .validate()
        .unwrap_err();
    assert_eq!(
        err,
        RequestError::Empty {
            field: "locationid"
        }
    );
}

#[test]
fn request_session_auth_and_options() {
    let mut request = login_request(SessionLocation::Entity("A&B"));
    request.authentication = Authentication::Session("sess<ion>..");
    request.control.unique_id = true;
    request.control.policy_id = Some("policy1");
    request.control.include_whitespace = true;
    let xml = written(&request);
    assert!(
        xml.contains("<authentication><sessionid>sess&lt;ion&gt;..</sessionid></authentication>")
    );
    assert!(xml.contains("<uniqueid>true</uniqueid><dtdversion>3.0</dtdversion><policyid>policy1</policyid><includewhitespace>true</includewhitespace>"));
    assert!(xml.contains("<locationid>A&amp;B</locationid>"));
}

#[test]
fn request_login_location_and_pipes() {
    let mut request = login_request(SessionLocation::Current);
    request.authentication = Authentication::Login(Login {
        user_id: "u",
        company_id: "CONSOLE|CLIENT|ENTITY",
        password: "p",
        location_id: Some("EAST"),
    });
    let xml = written(&request);
    assert!(xml.contains("<companyid>CONSOLE|CLIENT|ENTITY</companyid><password>p</password><locationid>EAST</locationid></login>"));
}

#[test]
fn request_rejects_invalid_values_by_field() {
    let mut request = login_request(SessionLocation::Current);
    request.control.sender.sender_password = "se\u{1}cret";
    let err = request.validate().unwrap_err();
    let RequestError::InvalidChar(invalid) = err else {
        panic!("unexpected error {err:?}");
    };
    assert_eq!(invalid.field, "control/password");
    assert!(
        !std::format!("{err}").contains("cret"),
        "the message must not echo the secret"
    );

    let mut request = login_request(SessionLocation::Current);
    request.authentication = Authentication::Session("");
    assert_eq!(
        request.validate(),
        Err(RequestError::Empty { field: "sessionid" })
    );

    let long = "x".repeat(CONTROL_ID_CAPACITY + 1);
    let mut request = login_request(SessionLocation::Current);
    request.control.control_id = &long;
    assert_eq!(
        request.validate(),
        Err(RequestError::ControlIdTooLong {
            field: "controlid",
            len: CONTROL_ID_CAPACITY + 1
        })
    );
}

#[test]
fn request_buffer_too_small_writes_nothing() {
    let request = login_request(SessionLocation::Current);
    let needed = request.encoded_len().unwrap();
    let mut buf = [0u8; 100];
    assert_eq!(
        request.write_to_slice(&mut buf),
        Err(RequestError::BufferTooSmall(BufferTooSmall {
            needed,
            capacity: 100
        }))
    );
    assert!(buf.iter().all(|&b| b == 0));
}

#[test]
fn request_write_to_stream_identical_twice() {
    let request = login_request(SessionLocation::Entity("WEST"));
    let mut first: Vec<u8> = Vec::new();
    let mut second: Vec<u8> = Vec::new();
    let len = request.write_to(&mut first).unwrap();
    request.write_to(&mut second).unwrap();
    assert_eq!(len, first.len());
    assert_eq!(first, second);
    assert_eq!(first, written(&request).into_bytes());
}

#[test]
fn request_debug_redacts_secrets() {
    let mut request = login_request(SessionLocation::Current);
    let text = std::format!("{request:?}");
    assert!(!text.contains("pass123!"));
    assert!(!text.contains("testpass"));
    request.authentication = Authentication::Session("ABCDEFGHIJKLMNOPQRSTUVWXYZ..");
    let text = std::format!("{request:?}");
    assert!(!text.contains("ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
    assert!(text.contains("ABCD…(28 bytes)"));
}

#[test]
fn sequential_control_ids_count_up() {
    let mut ids = SequentialControlIds::new("dev42");
    assert_eq!(ids.next_control_id().as_str(), "dev42-1");
    assert_eq!(ids.next_control_id().as_str(), "dev42-2");
    let long = "é".repeat(30);
    let mut ids = SequentialControlIds::new(&long);
    let id = ids.next_control_id();
    assert!(id.ends_with("-1"));
    assert!(id.len() <= CONTROL_ID_CAPACITY);
}

/// Collects the decoded text of every leaf element, by local name, in
/// document order, plus the `controlid` attribute of `function`.
fn read_back(xml: &str) -> Vec<(String, String)> {
    use crate::xml::text::XmlText;
    use xmlparser::{ElementEnd, Token, Tokenizer};

    let mut out = Vec::new();
    let mut open: Vec<(&str, usize)> = Vec::new();
    for token in Tokenizer::from(xml) {
        match token.unwrap() {
            Token::ElementStart { local, .. } => open.push((local.as_str(), 0)),
            Token::Attribute { local, value, .. } => {
                let text = XmlText::validate(value.as_str()).unwrap();
                out.push((std::format!("@{}", local.as_str()), text.to_string()));
            }
            Token::ElementEnd {
                end: ElementEnd::Open,
                span,
            } => {
                if let Some(top) = open.last_mut() {
                    top.1 = span.end();
                }
            }
            Token::ElementEnd {
                end: ElementEnd::Close(_, local),
                span,
            } => {
                let (name, start) = open.pop().unwrap();
                assert_eq!(name, local.as_str());
                let raw = &xml[start..span.start()];
                if !raw.contains('<') {
                    out.push((name.into(), XmlText::validate(raw).unwrap().to_string()));
                }
            }
            Token::ElementEnd {
                end: ElementEnd::Empty,
                ..
            } => {
                let (name, _) = open.pop().unwrap();
                out.push((name.into(), String::new()));
            }
            _ => {}
        }
    }
    out
}

fn value_of<'v>(fields: &'v [(String, String)], name: &str) -> Vec<&'v str> {
    fields
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

use std::string::ToString;

proptest::proptest! {
    #[test]
    fn request_round_trips_unicode_values(
        sender_id in "\\PC{1,24}",
        sender_password in ".{1,24}",
        user_id in "[\\PC\t\r\n]{1,24}",
        company_id in "\\PC{1,24}",
        password in "[\\PC\t\r\n]{1,24}",
        entity in "\\PC{1,24}",
        control_id in "\\PC{1,16}",
    ) {
        let request = Request {
            control: Control::new(
                Sender { sender_id: &sender_id, sender_password: &sender_password },
                &control_id,
            ),
            authentication: Authentication::Login(Login {
                user_id: &user_id,
                company_id: &company_id,
                password: &password,
                location_id: None,
            }),
            function_control_id: &control_id,
            function: GetApiSession::entity(&entity),
        };
        let invalid = [&sender_id, &sender_password, &user_id, &company_id, &password, &entity, &control_id]
            .iter()
            .any(|v| v.chars().any(|c| !crate::xml::escape::is_xml_char(c)));
        match request.encoded_len() {
            Err(RequestError::InvalidChar(_)) => proptest::prop_assert!(invalid),
            Err(other) => proptest::prop_assert!(false, "unexpected error {:?}", other),
            Ok(len) => {
                proptest::prop_assert!(!invalid);
                let mut buf = std::vec![0u8; len];
                proptest::prop_assert_eq!(request.write_to_slice(&mut buf), Ok(len));
                let xml = String::from_utf8(buf).unwrap();
                let fields = read_back(&xml);
                proptest::prop_assert_eq!(value_of(&fields, "senderid"), std::vec![sender_id.as_str()]);
                proptest::prop_assert_eq!(value_of(&fields, "password"), std::vec![sender_password.as_str(), password.as_str()]);
                proptest::prop_assert_eq!(value_of(&fields, "userid"), std::vec![user_id.as_str()]);
                proptest::prop_assert_eq!(value_of(&fields, "companyid"), std::vec![company_id.as_str()]);
                proptest::prop_assert_eq!(value_of(&fields, "locationid"), std::vec![entity.as_str()]);
                proptest::prop_assert_eq!(value_of(&fields, "controlid"), std::vec![control_id.as_str()]);
                proptest::prop_assert_eq!(value_of(&fields, "@controlid"), std::vec![control_id.as_str()]);
            }
        }
    }
}
