//! Reading a gateway request document into typed values.

use roxmltree::{Document, Node};

/// The `control` element's values, echoed in every response that has a
/// `control` block. Missing elements read as `None`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Control {
    pub(crate) sender_id: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) control_id: Option<String>,
    pub(crate) unique_id: Option<String>,
    pub(crate) dtd_version: Option<String>,
}

/// Authentication method of an operation.
#[derive(Clone, Debug)]
pub(crate) enum Authentication {
    /// `login`: company credentials, with an optional entity.
    Login {
        user_id: String,
        company_id: String,
        password: String,
        /// `None` when `locationid` is absent; `Some("")` when it is empty.
        location_id: Option<String>,
    },
    /// `sessionid`: an existing session.
    Session(String),
}

/// Level requested by a `getAPISession` call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LevelRequest {
    /// No `locationid`: the caller's current level.
    Current,
    /// An empty `locationid`: the top level.
    TopLevel,
    /// A non-empty `locationid`: that entity.
    Entity(String),
}

/// One function call in `content`.
#[derive(Clone, Debug)]
pub(crate) struct FunctionCall {
    /// The `controlid` attribute of `function`.
    pub(crate) control_id: String,
    /// The function element's name, such as `getAPISession`.
    pub(crate) name: String,
    pub(crate) call: Call,
}

/// The functions the simulator serves.
#[derive(Clone, Debug)]
pub(crate) enum Call {
    GetApiSession(LevelRequest),
    /// `readByQuery` with its `object` text, if present.
    ReadByQuery(Option<String>),
    /// Any other function name.
    Unknown,
}

/// The `operation` element.
#[derive(Clone, Debug)]
pub(crate) struct Operation {
    /// `transaction="true"`: one failed function aborts all of them.
    pub(crate) transaction: bool,
    pub(crate) authentication: Authentication,
    pub(crate) functions: Vec<FunctionCall>,
}

/// A request that passed the well-formedness and schema checks.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    pub(crate) control: Control,
    pub(crate) operation: Operation,
}

/// Reason a request document was rejected before any credential check.
#[derive(Clone, Debug)]
pub(crate) enum RequestError {
    /// The body is not a well-formed XML document (or not UTF-8).
    Malformed(String),
    /// The document is well-formed but does not follow the request schema.
    /// Carries whatever control values could be read, for the echo.
    Schema {
        control: Box<Control>,
        message: String,
    },
}

/// Parses and checks a request body.
pub(crate) fn parse(body: &[u8]) -> Result<Request, RequestError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(RequestError::Malformed(String::from(
            "the request body is empty",
        )));
    }
    let text = std::str::from_utf8(body).map_err(|error| {
        RequestError::Malformed(format!(
            "the request body is not valid UTF-8 at byte {}",
            error.valid_up_to()
        ))
    })?;
    let document = Document::parse(text)
        .map_err(|error| RequestError::Malformed(format!("XML parse error: {error}")))?;

    let root = document.root_element();
    let mut control = Control::default();
    let schema = |control: &Control, message: String| RequestError::Schema {
        control: Box::new(control.clone()),
        message,
    };
    if root.tag_name().name() != "request" {
        return Err(schema(
            &control,
            format!(
                "the root element is <{}>; a request document must start with <request>",
                root.tag_name().name()
            ),
        ));
    }

    let control_node =
        required_child(root, "control").map_err(|message| schema(&control, message))?;
    control = read_control(control_node).map_err(|message| schema(&control, message))?;
    for (name, value) in [
        ("senderid", &control.sender_id),
        ("password", &control.password),
        ("controlid", &control.control_id),
        ("dtdversion", &control.dtd_version),
    ] {
        if value.is_none() {
            return Err(schema(
                &control,
                format!("the control element is missing <{name}>"),
            ));
        }
    }

    let operation_node =
        required_child(root, "operation").map_err(|message| schema(&control, message))?;
    let operation = read_operation(operation_node).map_err(|message| schema(&control, message))?;
    Ok(Request { control, operation })
}

fn read_control(node: Node<'_, '_>) -> Result<Control, String> {
    Ok(Control {
        sender_id: optional_text(node, "senderid")?,
        password: optional_text(node, "password")?,
        control_id: optional_text(node, "controlid")?,
        unique_id: optional_text(node, "uniqueid")?,
        dtd_version: optional_text(node, "dtdversion")?,
    })
}

fn read_operation(node: Node<'_, '_>) -> Result<Operation, String> {
    let transaction = match node.attribute("transaction") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(format!(
                "the operation attribute transaction is {other:?}; use \"true\" or \"false\""
            ));
        }
    };

    let authentication_node = required_child(node, "authentication")?;
    let login = optional_child(authentication_node, "login")?;
    let session = optional_text(authentication_node, "sessionid")?;
    let authentication = match (login, session) {
        (Some(login), None) => Authentication::Login {
            user_id: required_text(login, "userid")?,
            company_id: required_text(login, "companyid")?,
            password: required_text(login, "password")?,
            location_id: optional_text(login, "locationid")?,
        },
        (None, Some(session_id)) => Authentication::Session(session_id),
        (Some(_), Some(_)) => {
            return Err(String::from(
                "the authentication element has both <login> and <sessionid>; send one of them",
            ));
        }
        (None, None) => {
            return Err(String::from(
                "the authentication element has neither <login> nor <sessionid>",
            ));
        }
    };

    let content = required_child(node, "content")?;
    let mut functions = Vec::new();
    for child in content.children().filter(Node::is_element) {
        if child.tag_name().name() != "function" {
            return Err(format!(
                "the content element contains <{}>; it may contain only <function> elements",
                child.tag_name().name()
            ));
        }
        functions.push(read_function(child)?);
    }
    if functions.is_empty() {
        return Err(String::from(
            "the content element contains no <function>; send at least one",
        ));
    }
    Ok(Operation {
        transaction,
        authentication,
        functions,
    })
}

fn read_function(node: Node<'_, '_>) -> Result<FunctionCall, String> {
    let control_id = node
        .attribute("controlid")
        .ok_or_else(|| String::from("a <function> element is missing its controlid attribute"))?
        .to_owned();
    let mut elements = node.children().filter(Node::is_element);
    let (Some(body), None) = (elements.next(), elements.next()) else {
        return Err(format!(
            "<function controlid={control_id:?}> must contain exactly one function element"
        ));
    };
    let name = body.tag_name().name().to_owned();
    let call = match name.as_str() {
        "getAPISession" => Call::GetApiSession(match optional_text(body, "locationid")? {
            None => LevelRequest::Current,
            Some(location) if location.is_empty() => LevelRequest::TopLevel,
            Some(location) => LevelRequest::Entity(location),
        }),
        "readByQuery" => Call::ReadByQuery(optional_text(body, "object")?),
        _ => Call::Unknown,
    };
    Ok(FunctionCall {
        control_id,
        name,
        call,
    })
}

fn optional_child<'a, 'input>(
    parent: Node<'a, 'input>,
    name: &str,
) -> Result<Option<Node<'a, 'input>>, String> {
    let mut matches = parent
        .children()
        .filter(|child| child.is_element() && child.tag_name().name() == name);
    let first = matches.next();
    if matches.next().is_some() {
        return Err(format!(
            "<{}> contains <{name}> more than once",
            parent.tag_name().name()
        ));
    }
    Ok(first)
}

fn required_child<'a, 'input>(
    parent: Node<'a, 'input>,
    name: &str,
) -> Result<Node<'a, 'input>, String> {
    optional_child(parent, name)?.ok_or_else(|| {
        format!(
            "the {} element is missing <{name}>",
            parent.tag_name().name()
        )
    })
}

/// Reads the decoded text of a child element that may contain only text.
/// Entity and character references are already decoded by the parser.
fn optional_text(parent: Node<'_, '_>, name: &str) -> Result<Option<String>, String> {
    let Some(node) = optional_child(parent, name)? else {
        return Ok(None);
    };
    if node.children().any(|child| child.is_element()) {
        return Err(format!("<{name}> must contain text only"));
    }
    let text: String = node
        .children()
        .filter(Node::is_text)
        .filter_map(|child| child.text())
        .collect();
    Ok(Some(text))
}

fn required_text(parent: Node<'_, '_>, name: &str) -> Result<String, String> {
    optional_text(parent, name)?.ok_or_else(|| {
        format!(
            "the {} element is missing <{name}>",
            parent.tag_name().name()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(authentication: &str, content: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><request><control><senderid>s</senderid>\
             <password>p</password><controlid>c</controlid><uniqueid>false</uniqueid>\
             <dtdversion>3.0</dtdversion></control><operation><authentication>{authentication}\
             </authentication><content>{content}</content></operation></request>"
        )
    }

    fn level_of(content: &str) -> LevelRequest {
        let body = request("<sessionid>x..</sessionid>", content);
        let parsed = parse(body.as_bytes()).unwrap();
        match &parsed.operation.functions[0].call {
            Call::GetApiSession(level) => level.clone(),
            other => panic!("unexpected call {other:?}"),
        }
    }

    #[test]
    fn three_levels_stay_distinct() {
        let current = "<function controlid=\"f\"><getAPISession/></function>";
        let top =
            "<function controlid=\"f\"><getAPISession><locationid/></getAPISession></function>";
        let top_long = "<function controlid=\"f\"><getAPISession><locationid></locationid></getAPISession></function>";
        let entity = "<function controlid=\"f\"><getAPISession><locationid>E&amp;1</locationid></getAPISession></function>";
        assert_eq!(level_of(current), LevelRequest::Current);
        assert_eq!(level_of(top), LevelRequest::TopLevel);
        assert_eq!(level_of(top_long), LevelRequest::TopLevel);
        assert_eq!(level_of(entity), LevelRequest::Entity(String::from("E&1")));
    }

    #[test]
    fn login_decodes_references() {
        let body = request(
            "<login><userid>u</userid><companyid>A|B</companyid><password>p&lt;&#38;&#x41;</password></login>",
            "<function controlid=\"f\"><getAPISession/></function>",
        );
        let parsed = parse(body.as_bytes()).unwrap();
        let Authentication::Login {
            company_id,
            password,
            location_id,
            ..
        } = parsed.operation.authentication
        else {
            panic!("expected login");
        };
        assert_eq!(company_id, "A|B");
        assert_eq!(password, "p<&A");
        assert_eq!(location_id, None);
    }

    #[test]
    fn malformed_body_is_reported() {
        let error = parse(b"<request><control></request>").unwrap_err();
        assert!(matches!(error, RequestError::Malformed(_)), "{error:?}");
        let error = parse(b"").unwrap_err();
        assert!(matches!(error, RequestError::Malformed(_)), "{error:?}");
        let error = parse(&[0x3c, 0xff, 0xfe]).unwrap_err();
        assert!(matches!(error, RequestError::Malformed(_)), "{error:?}");
    }

    #[test]
    fn missing_controlid_attribute_is_schema_error() {
        let body = request(
            "<sessionid>x</sessionid>",
            "<function><getAPISession/></function>",
        );
        let error = parse(body.as_bytes()).unwrap_err();
        let RequestError::Schema { control, message } = error else {
            panic!("expected schema error");
        };
        assert!(message.contains("controlid"), "{message}");
        assert_eq!(control.sender_id.as_deref(), Some("s"));
    }

    #[test]
    fn doctype_is_rejected() {
        let body = "<?xml version=\"1.0\"?><!DOCTYPE request [<!ENTITY a \"b\">]><request/>";
        let error = parse(body.as_bytes()).unwrap_err();
        assert!(matches!(error, RequestError::Malformed(_)), "{error:?}");
    }
}
