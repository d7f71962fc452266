//! Sessions and levels over real TCP: login at each level, entity switches,
//! restricted users, expiry, sliding timeouts and readByQuery.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use intacct_simulator::{
    Company, Config, DEMO_COMPANY_ID, DEMO_ENTITY_EAST, DEMO_ENTITY_EAST_NAME, DEMO_ENTITY_WEST,
    DEMO_ENTITY_WEST_NAME, DEMO_SENDER_ID, DEMO_USER_ID, Entity, Options, RESTRICTED_USER_ID,
    RESTRICTED_USER_PASSWORD, Sender, Simulator, User, codes,
};

const API: &str = "operation/result/data/api";

#[test]
fn login_top_level_success() {
    let handle = start_demo();
    let response = post(
        handle.http_addr().unwrap(),
        &request(&demo_login(None), &get_api_session(Level::Current)),
    );
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("text/xml; charset=UTF-8")
    );
    let xml = response.xml();
    assert_eq!(xml.get("control/status"), "success");
    assert_eq!(xml.get("control/senderid"), DEMO_SENDER_ID);
    assert_eq!(xml.get("control/controlid"), "ctl-1");
    assert_eq!(xml.get("control/uniqueid"), "false");
    assert_eq!(xml.get("control/dtdversion"), "3.0");
    assert_eq!(xml.get("operation/authentication/status"), "success");
    assert_eq!(xml.get("operation/authentication/userid"), DEMO_USER_ID);
    assert_eq!(
        xml.get("operation/authentication/companyid"),
        DEMO_COMPANY_ID
    );
    assert_eq!(xml.get("operation/authentication/locationid"), "");
    assert_eq!(xml.get("operation/result/status"), "success");
    assert_eq!(xml.get("operation/result/function"), "getAPISession");
    assert_eq!(xml.get("operation/result/controlid"), "func-1");
    assert_eq!(
        xml.get(&format!("{API}/endpoint")),
        handle.http_url().unwrap()
    );
    assert_eq!(xml.get(&format!("{API}/locationid")), "");

    let session_id = xml.get(&format!("{API}/sessionid"));
    assert!(session_id.len() >= 40, "{session_id}");
    assert!(session_id.ends_with(".."), "{session_id}");
    assert!(
        session_id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'.'),
        "{session_id}"
    );
    assert_eq!(handle.session_count(), 1);
}

#[test]
fn response_is_pretty_printed() {
    let handle = start_demo();
    let response = post(
        handle.http_addr().unwrap(),
        &request(&demo_login(None), &get_api_session(Level::Current)),
    );
    let text = response.text();
    assert!(
        text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n"),
        "{text}"
    );
    assert!(
        text.contains("\n      <control>\n            <status>success</status>\n"),
        "{text}"
    );
    assert!(
        text.contains("\n                  <function>getAPISession</function>\n"),
        "{text}"
    );
}

#[test]
fn timestamps_use_offset_and_duration() {
    let handle = start_demo();
    let response = post(
        handle.http_addr().unwrap(),
        &request(&demo_login(None), &get_api_session(Level::Current)),
    );
    let xml = response.xml();
    let (stamp, stamp_offset) =
        parse_timestamp(&xml.get("operation/authentication/sessiontimestamp"));
    let (timeout, timeout_offset) =
        parse_timestamp(&xml.get("operation/authentication/sessiontimeout"));
    assert_eq!(stamp_offset, -480);
    assert_eq!(timeout_offset, -480);
    assert_eq!(timeout - stamp, 30 * 60);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        (stamp - now).abs() <= 5,
        "timestamp {stamp}, wall clock {now}"
    );
}

#[test]
fn clock_start_and_offset_change() {
    // 2026-12-04T20:34:56Z
    let start = UNIX_EPOCH + Duration::from_secs(1_796_416_496);
    let options = Options {
        clock_start: Some(start),
        ..Options::http_only()
    };
    let handle = Simulator::start(Config::demo(), options).unwrap();
    let body = request(&demo_login(None), &get_api_session(Level::Current));

    let xml = post(handle.http_addr().unwrap(), &body).xml();
    let stamp = xml.get("operation/authentication/sessiontimestamp");
    assert!(stamp.starts_with("2026-12-04T12:3"), "{stamp}");
    assert!(stamp.ends_with("-08:00"), "{stamp}");

    handle.set_utc_offset_minutes(-420).unwrap();
    assert!(handle.set_utc_offset_minutes(24 * 60).is_err());
    let xml = post(handle.http_addr().unwrap(), &body).xml();
    let stamp = xml.get("operation/authentication/sessiontimestamp");
    assert!(stamp.starts_with("2026-12-04T13:3"), "{stamp}");
    assert!(stamp.ends_with("-07:00"), "{stamp}");
}

#[test]
fn login_entity_level_success() {
    let handle = start_demo();
    let response = post(
        handle.http_addr().unwrap(),
        &request(
            &demo_login(Some(DEMO_ENTITY_EAST)),
            &get_api_session(Level::Current),
        ),
    );
    assert_eq!(response.status, 200);
    let xml = response.xml();
    assert_eq!(
        xml.get("operation/authentication/locationid"),
        DEMO_ENTITY_EAST
    );
    assert_eq!(xml.get(&format!("{API}/locationid")), DEMO_ENTITY_EAST);
}

#[test]
fn login_then_entity_session() {
    let handle = start_demo();
    let response = post(
        handle.http_addr().unwrap(),
        &request(
            &demo_login(None),
            &get_api_session(Level::Entity(DEMO_ENTITY_WEST)),
        ),
    );
    let xml = response.xml();
    assert_eq!(xml.get("operation/result/status"), "success");
    assert_eq!(xml.get("operation/authentication/locationid"), "");
    assert_eq!(xml.get(&format!("{API}/locationid")), DEMO_ENTITY_WEST);
    // The login's own session plus the new entity session.
    assert_eq!(handle.session_count(), 2);
}

#[test]
fn login_explicit_top_level_both_spellings() {
    let handle = start_demo();
    for level in [Level::Top, Level::TopLong] {
        let response = post(
            handle.http_addr().unwrap(),
            &request(&demo_login(Some(DEMO_ENTITY_EAST)), &get_api_session(level)),
        );
        let xml = response.xml();
        assert_eq!(xml.get("operation/result/status"), "success", "{level:?}");
        assert_eq!(
            xml.get("operation/authentication/locationid"),
            DEMO_ENTITY_EAST
        );
        assert_eq!(xml.get(&format!("{API}/locationid")), "", "{level:?}");
    }
}

#[test]
fn session_current_level_returns_same_id() {
    let handle = start_demo();
    let session_id = demo_session(&handle, Some(DEMO_ENTITY_EAST));
    let response = post(
        handle.http_addr().unwrap(),
        &request(&session(&session_id), &get_api_session(Level::Current)),
    );
    let xml = response.xml();
    assert_eq!(xml.get(&format!("{API}/sessionid")), session_id);
    assert_eq!(xml.get(&format!("{API}/locationid")), DEMO_ENTITY_EAST);
    assert_eq!(xml.get("operation/authentication/userid"), DEMO_USER_ID);
    assert_eq!(
        xml.get("operation/authentication/companyid"),
        DEMO_COMPANY_ID
    );
    assert_eq!(
        xml.get("operation/authentication/locationid"),
        DEMO_ENTITY_EAST
    );
    assert_eq!(handle.session_count(), 1);
}

#[test]
fn switch_entity_then_return_to_top() {
    let handle = start_demo();
    let address = handle.http_addr().unwrap();
    let top = demo_session(&handle, None);

    let xml = post(
        address,
        &request(
            &session(&top),
            &get_api_session(Level::Entity(DEMO_ENTITY_EAST)),
        ),
    )
    .xml();
    let east = xml.get(&format!("{API}/sessionid"));
    assert_ne!(east, top);
    assert_eq!(xml.get(&format!("{API}/locationid")), DEMO_ENTITY_EAST);

    let xml = post(
        address,
        &request(
            &session(&east),
            &get_api_session(Level::Entity(DEMO_ENTITY_WEST)),
        ),
    )
    .xml();
    let west = xml.get(&format!("{API}/sessionid"));
    assert_ne!(west, east);
    assert_eq!(
        xml.get("operation/authentication/locationid"),
        DEMO_ENTITY_EAST
    );
    assert_eq!(xml.get(&format!("{API}/locationid")), DEMO_ENTITY_WEST);

    let xml = post(
        address,
        &request(&session(&west), &get_api_session(Level::Top)),
    )
    .xml();
    let back = xml.get(&format!("{API}/sessionid"));
    assert_eq!(xml.get("operation/result/status"), "success");
    assert_eq!(xml.get(&format!("{API}/locationid")), "");
    assert_ne!(back, west);

    // The earlier sessions stay valid.
    let xml = post(
        address,
        &request(&session(&east), &get_api_session(Level::Current)),
    )
    .xml();
    assert_eq!(xml.get(&format!("{API}/sessionid")), east);
    assert_eq!(handle.session_count(), 4);
}

#[test]
fn entity_ids_ignore_case() {
    let handle = start_demo();
    let response = post(
        handle.http_addr().unwrap(),
        &request(
            &common::login(
                DEMO_USER_ID,
                "demo-co",
                intacct_simulator::DEMO_USER_PASSWORD,
                Some("east"),
            ),
            &get_api_session(Level::Entity("west")),
        ),
    );
    let xml = response.xml();
    assert_eq!(xml.get("operation/authentication/companyid"), "demo-co");
    assert_eq!(
        xml.get("operation/authentication/locationid"),
        DEMO_ENTITY_EAST
    );
    assert_eq!(xml.get(&format!("{API}/locationid")), DEMO_ENTITY_WEST);
}

#[test]
fn unknown_entity_gives_two_errors() {
    let handle = start_demo();
    let top = demo_session(&handle, None);
    let response = post(
        handle.http_addr().unwrap(),
        &request(&session(&top), &get_api_session(Level::Entity("NORTH"))),
    );
    assert_eq!(response.status, 200);
    let xml = response.xml();
    assert_eq!(xml.get("operation/authentication/status"), "success");
    assert_eq!(xml.get("operation/result/status"), "failure");
    assert_eq!(xml.get("operation/result/function"), "getAPISession");
    assert_eq!(xml.get("operation/result/controlid"), "func-1");
    assert_eq!(xml.count("operation/result/data"), 0);
    let numbers = xml.texts("operation/result/errormessage/error/errorno");
    assert_eq!(numbers, [codes::ENTITY_NOT_FOUND, codes::CORRECTION_HINT]);
    let first = xml.get("operation/result/errormessage/error/description2");
    assert!(first.contains("NORTH"), "{first}");
    let corrections = xml.texts("operation/result/errormessage/error/correction");
    assert!(
        corrections[1].contains("empty locationid"),
        "{corrections:?}"
    );
}

#[test]
fn restricted_user_login_lands_in_entity() {
    let handle = start_demo();
    let response = post(
        handle.http_addr().unwrap(),
        &request(
            &common::login(
                RESTRICTED_USER_ID,
                DEMO_COMPANY_ID,
                RESTRICTED_USER_PASSWORD,
                None,
            ),
            &get_api_session(Level::Current),
        ),
    );
    let xml = response.xml();
    assert_eq!(
        xml.get("operation/authentication/locationid"),
        DEMO_ENTITY_EAST
    );
    assert_eq!(xml.get(&format!("{API}/locationid")), DEMO_ENTITY_EAST);
}

#[test]
fn restricted_user_denied_top_and_other_entity() {
    let handle = start_demo();
    let address = handle.http_addr().unwrap();
    let restricted_login = common::login(
        RESTRICTED_USER_ID,
        DEMO_COMPANY_ID,
        RESTRICTED_USER_PASSWORD,
        None,
    );

    let xml = post(
        address,
        &request(&restricted_login, &get_api_session(Level::Top)),
    )
    .xml();
    assert_eq!(xml.get("operation/result/status"), "failure");
    assert_eq!(
        xml.texts("operation/result/errormessage/error/errorno"),
        [codes::TOP_LEVEL_DENIED]
    );

    let xml = post(
        address,
        &request(
            &restricted_login,
            &get_api_session(Level::Entity(DEMO_ENTITY_WEST)),
        ),
    )
    .xml();
    assert_eq!(xml.get("operation/result/status"), "failure");
    assert_eq!(
        xml.texts("operation/result/errormessage/error/errorno"),
        [codes::ENTITY_DENIED]
    );

    let xml = post(
        address,
        &request(
            &restricted_login,
            &get_api_session(Level::Entity(DEMO_ENTITY_EAST)),
        ),
    )
    .xml();
    assert_eq!(xml.get("operation/result/status"), "success");
}

#[test]
fn restricted_user_login_other_entity_rejected() {
    let handle = start_demo();
    let response = post(
        handle.http_addr().unwrap(),
        &request(
            &common::login(
                RESTRICTED_USER_ID,
                DEMO_COMPANY_ID,
                RESTRICTED_USER_PASSWORD,
                Some(DEMO_ENTITY_WEST),
            ),
            &get_api_session(Level::Current),
        ),
    );
    assert_eq!(response.status, 401);
    let xml = response.xml();
    assert_eq!(xml.get("operation/authentication/status"), "failure");
    assert_eq!(
        xml.get("operation/errormessage/error/errorno"),
        codes::AUTHENTICATION_FAILED
    );
    assert_eq!(
        xml.get("operation/errormessage/error/description2"),
        codes::SIGN_IN_INVALID_TEXT
    );
    let correction = xml.get("operation/errormessage/error/correction");
    assert!(correction.contains(DEMO_ENTITY_WEST), "{correction}");
    assert_eq!(handle.session_count(), 0);
}

#[test]
fn session_expires_after_duration() {
    let handle = start(Config::demo().with_session_duration(Duration::from_secs(60)));
    let session_id = demo_session(&handle, None);
    let body = request(&session(&session_id), &get_api_session(Level::Current));

    handle.advance_clock(Duration::from_secs(59));
    let response = post(handle.http_addr().unwrap(), &body);
    assert_eq!(response.status, 200, "{}", response.text());

    handle.advance_clock(Duration::from_secs(61));
    let response = post(handle.http_addr().unwrap(), &body);
    assert_eq!(response.status, 401);
    let xml = response.xml();
    assert_eq!(xml.get("control/status"), "success");
    assert_eq!(xml.get("operation/authentication/status"), "failure");
    assert_eq!(xml.get("operation/authentication/userid"), "");
    assert_eq!(
        xml.get("operation/errormessage/error/errorno"),
        codes::AUTHENTICATION_FAILED
    );
    assert_eq!(
        xml.get("operation/errormessage/error/description2"),
        codes::SESSION_INVALID_TEXT
    );
    assert_eq!(xml.count("operation/result"), 0);
    assert_eq!(handle.session_count(), 0);
}

#[test]
fn every_call_slides_timeout() {
    let handle = start(Config::demo().with_session_duration(Duration::from_secs(60)));
    let address = handle.http_addr().unwrap();
    let session_id = demo_session(&handle, None);

    // Each call inside the window renews it, so the session outlives its
    // first timeout; a readByQuery call renews it too.
    let get = request(&session(&session_id), &get_api_session(Level::Current));
    let query = request(&session(&session_id), &read_locations("q"));
    let mut last_timeout = 0;
    for body in [&get, &query, &get] {
        handle.advance_clock(Duration::from_secs(40));
        let response = post(address, body);
        assert_eq!(response.status, 200, "{}", response.text());
        let xml = response.xml();
        let (stamp, _) = parse_timestamp(&xml.get("operation/authentication/sessiontimestamp"));
        let (timeout, _) = parse_timestamp(&xml.get("operation/authentication/sessiontimeout"));
        assert_eq!(timeout - stamp, 60);
        assert!(
            timeout >= last_timeout + 39,
            "timeout {timeout} after {last_timeout}"
        );
        last_timeout = timeout;
    }

    handle.advance_clock(Duration::from_secs(60));
    assert_eq!(post(address, &get).status, 401);
}

#[test]
fn expire_all_sessions_invalidates() {
    let handle = start_demo();
    let session_id = demo_session(&handle, None);
    assert_eq!(handle.session_count(), 1);
    handle.expire_all_sessions();
    assert_eq!(handle.session_count(), 0);
    let response = post(
        handle.http_addr().unwrap(),
        &request(&session(&session_id), &get_api_session(Level::Current)),
    );
    assert_eq!(response.status, 401);
}

#[test]
fn unknown_session_rejected() {
    let handle = start_demo();
    let response = post(
        handle.http_addr().unwrap(),
        &request(&session("NotARealSession.."), &read_locations("q")),
    );
    assert_eq!(response.status, 401);
    assert_eq!(
        response
            .xml()
            .get("operation/errormessage/error/description2"),
        codes::SESSION_INVALID_TEXT
    );
}

#[test]
fn read_by_query_lists_locations() {
    let handle = start_demo();
    let address = handle.http_addr().unwrap();

    let xml = post(address, &request(&demo_login(None), &read_locations("q1"))).xml();
    assert_eq!(xml.get("operation/result/status"), "success");
    assert_eq!(xml.get("operation/result/function"), "readByQuery");
    assert_eq!(xml.get("operation/result/controlid"), "q1");
    let data = "operation/result/data";
    assert_eq!(xml.attribute(data, "listtype").as_deref(), Some("location"));
    assert_eq!(xml.attribute(data, "count").as_deref(), Some("2"));
    assert_eq!(xml.attribute(data, "totalcount").as_deref(), Some("2"));
    assert_eq!(xml.attribute(data, "numremaining").as_deref(), Some("0"));
    assert_eq!(xml.attribute(data, "resultId").as_deref(), Some(""));
    assert_eq!(
        xml.texts("operation/result/data/location/LOCATIONID"),
        [DEMO_ENTITY_EAST, DEMO_ENTITY_WEST]
    );
    assert_eq!(
        xml.texts("operation/result/data/location/NAME"),
        [DEMO_ENTITY_EAST_NAME, DEMO_ENTITY_WEST_NAME]
    );

    let restricted_login = common::login(
        RESTRICTED_USER_ID,
        DEMO_COMPANY_ID,
        RESTRICTED_USER_PASSWORD,
        None,
    );
    let xml = post(address, &request(&restricted_login, &read_locations("q2"))).xml();
    assert_eq!(
        xml.attribute("operation/result/data", "count").as_deref(),
        Some("1")
    );
    assert_eq!(
        xml.texts("operation/result/data/location/LOCATIONID"),
        [DEMO_ENTITY_EAST]
    );
}

#[test]
fn read_by_query_unknown_object_fails() {
    let handle = start_demo();
    let content =
        "<function controlid=\"q\"><readByQuery><object>VENDOR</object></readByQuery></function>";
    let xml = post(
        handle.http_addr().unwrap(),
        &request(&demo_login(None), content),
    )
    .xml();
    assert_eq!(xml.get("operation/result/status"), "failure");
    assert_eq!(
        xml.get("operation/result/errormessage/error/errorno"),
        codes::QUERY_FAILED
    );
    assert_eq!(
        xml.get("operation/result/errormessage/error/description2"),
        "Object definition VENDOR not found"
    );
}

#[test]
fn unknown_function_fails_result() {
    let handle = start_demo();
    let content = "<function controlid=\"x\"><frobnicate/></function>";
    let response = post(
        handle.http_addr().unwrap(),
        &request(&demo_login(None), content),
    );
    assert_eq!(response.status, 200);
    let xml = response.xml();
    assert_eq!(xml.get("operation/authentication/status"), "success");
    assert_eq!(xml.get("operation/result/status"), "failure");
    assert_eq!(xml.get("operation/result/function"), "frobnicate");
    assert_eq!(
        xml.get("operation/result/errormessage/error/errorno"),
        codes::UNKNOWN_FUNCTION
    );
}

#[test]
fn get_api_session_must_be_alone() {
    let handle = start_demo();
    let content = format!("{}{}", get_api_session(Level::Current), read_locations("q"));
    let xml = post(
        handle.http_addr().unwrap(),
        &request(&demo_login(None), &content),
    )
    .xml();
    assert_eq!(xml.texts("operation/result/status"), ["failure", "success"]);
    assert_eq!(
        xml.texts("operation/result/function"),
        ["getAPISession", "readByQuery"]
    );
    assert_eq!(
        xml.get("operation/result/errormessage/error/errorno"),
        codes::GET_API_SESSION_NOT_ALONE
    );
}

#[test]
fn transaction_failure_aborts_all() {
    let handle = start_demo();
    let content = format!(
        "{}<function controlid=\"bad\"><readByQuery><object>VENDOR9</object></readByQuery></function>",
        read_locations("good")
    );
    let body = request_from(
        DEMO_SENDER_ID,
        intacct_simulator::DEMO_SENDER_PASSWORD,
        &demo_login(None),
        &content,
        true,
    );

    let response = post(handle.http_addr().unwrap(), &body);
    assert_eq!(response.status, 200);
    let xml = response.xml();
    assert_eq!(xml.texts("operation/result/status"), ["aborted", "aborted"]);
    assert_eq!(xml.texts("operation/result/controlid"), ["good", "bad"]);
    assert_eq!(xml.count("operation/result/data"), 0);

    // The first result contains only the rollback notice. The second contains
    // its own error, then the notice.
    assert_eq!(
        xml.texts("operation/result/errormessage/error/errorno"),
        [
            codes::TRANSACTION_ROLLED_BACK,
            codes::QUERY_FAILED,
            codes::TRANSACTION_ROLLED_BACK
        ]
    );
    assert_eq!(
        xml.texts("operation/result/errormessage/error/description2")[0],
        codes::TRANSACTION_ROLLED_BACK_TEXT
    );
}

#[test]
fn composite_company_id_and_escapes_round_trip() {
    let company_id = "CONSOLE|CLIENT|ENTITY";
    let password = "p&ss<w\u{f6}rd>\"'";
    let config = Config::new()
        .with_sender(Sender::new("s&1", "sp"))
        .with_company(
            Company::new(company_id)
                .with_entity(Entity::new("E&1", "Entity <one>"))
                .with_user(User::new("u", password)),
        );
    let handle = start(config);

    let authentication = format!(
        "<login><userid>u</userid><companyid>{company_id}</companyid>\
         <password>p&amp;ss&lt;w&#246;rd&gt;&quot;&#x27;</password>\
         <locationid>E&amp;1</locationid></login>"
    );
    let body = request_from(
        "s&amp;1",
        "sp",
        &authentication,
        &read_locations("q"),
        false,
    );

    let response = post(handle.http_addr().unwrap(), &body);
    assert_eq!(response.status, 200, "{}", response.text());
    let xml = response.xml();
    assert_eq!(xml.get("control/senderid"), "s&1");
    assert_eq!(xml.get("operation/authentication/companyid"), company_id);
    assert_eq!(xml.get("operation/authentication/locationid"), "E&1");
    assert_eq!(
        xml.get("operation/result/data/location/NAME"),
        "Entity <one>"
    );
    assert!(
        response.text().contains("<NAME>Entity &lt;one&gt;</NAME>"),
        "{}",
        response.text()
    );
}

#[test]
fn single_entity_company_has_only_top_level() {
    let config = Config::new()
        .with_sender(Sender::new("s", "sp"))
        .with_company(Company::new("SOLO").with_user(User::new("u", "p")));
    let handle = start(config);
    let address = handle.http_addr().unwrap();
    let login = common::login("u", "SOLO", "p", None);

    let xml = post(
        address,
        &request_from("s", "sp", &login, &get_api_session(Level::Top), false),
    )
    .xml();
    assert_eq!(xml.get("operation/result/status"), "success");
    assert_eq!(xml.get(&format!("{API}/locationid")), "");

    let xml = post(
        address,
        &request_from("s", "sp", &login, &read_locations("q"), false),
    )
    .xml();
    assert_eq!(
        xml.attribute("operation/result/data", "count").as_deref(),
        Some("0")
    );
    assert_eq!(xml.count("operation/result/data/location"), 0);
}
