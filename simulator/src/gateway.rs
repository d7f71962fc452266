//! Request processing: credentials, sessions, functions and response documents.
//!
//! Sessions live in memory. A session expires at its last use plus the
//! configured duration; a request at or after that second finds it gone.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use ring::rand::{SecureRandom, SystemRandom};

use crate::clock::format_iso8601;
use crate::codes;
use crate::config::Config;
use crate::request::{
    self, Authentication, Call, Control, FunctionCall, LevelRequest, RequestError,
};
use crate::xml::XmlWriter;

/// Characters of a session id before its trailing `..`.
const SESSION_ID_RANDOM_CHARS: usize = 46;
const SESSION_ID_ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Listener endpoint, simulated time and UTC offset for one request.
pub(crate) struct Context<'a> {
    /// The gateway URL of the listener that received the request.
    pub(crate) endpoint: &'a str,
    /// Simulated time, in seconds since the Unix epoch.
    pub(crate) now: i64,
    /// UTC offset of response timestamps, in minutes east of UTC.
    pub(crate) utc_offset_minutes: i32,
}

/// A processed request: the HTTP status and the XML body to send.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: String,
    /// One line for the log, without passwords or whole session ids.
    pub(crate) summary: String,
}

struct Session {
    company: usize,
    user: usize,
    /// The user and company ids as the creating login sent them.
    user_id: String,
    company_id: String,
    /// Canonical entity id, or `None` at the top level.
    location: Option<String>,
    /// Unix second at which the session is gone.
    expires_at: i64,
}

/// The authenticated caller of one request.
struct Caller {
    session_id: String,
    company: usize,
    user: usize,
    user_id: String,
    company_id: String,
    location: Option<String>,
    expires_at: i64,
}

#[derive(Clone)]
struct ErrorItem {
    errorno: String,
    description: String,
    description2: String,
    correction: String,
}

impl ErrorItem {
    fn new(errorno: &str, description2: impl Into<String>) -> Self {
        ErrorItem {
            errorno: errorno.to_owned(),
            description: String::new(),
            description2: description2.into(),
            correction: String::new(),
        }
    }

    fn with_correction(mut self, correction: impl Into<String>) -> Self {
        self.correction = correction.into();
        self
    }

    fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }
}

enum ResultData {
    ApiSession {
        session_id: String,
        location: Option<String>,
    },
    Locations(Vec<(String, String)>),
}

enum Outcome {
    Success(ResultData),
    Failure(Vec<ErrorItem>),
    Aborted(Vec<ErrorItem>),
}

impl Outcome {
    fn status(&self) -> &'static str {
        match self {
            Outcome::Success(_) => "success",
            Outcome::Failure(_) => "failure",
            Outcome::Aborted(_) => "aborted",
        }
    }
}

/// The simulated gateway's state.
pub(crate) struct Gateway {
    config: Config,
    sessions: HashMap<String, Session>,
    random: SystemRandom,
}

impl Gateway {
    /// Creates a gateway over a validated configuration.
    pub(crate) fn new(config: Config) -> Self {
        Gateway {
            config,
            sessions: HashMap::new(),
            random: SystemRandom::new(),
        }
    }

    /// Number of sessions that have not expired at `now`.
    pub(crate) fn session_count(&mut self, now: i64) -> usize {
        self.purge_expired(now);
        self.sessions.len()
    }

    /// Drops every session.
    pub(crate) fn expire_all_sessions(&mut self) {
        self.sessions.clear();
    }

    fn purge_expired(&mut self, now: i64) {
        self.sessions.retain(|_, session| now < session.expires_at);
    }

    fn session_seconds(&self) -> i64 {
        i64::try_from(self.config.session_duration.as_secs()).unwrap_or(i64::MAX)
    }

    /// Processes one request body.
    pub(crate) fn handle(&mut self, body: &[u8], context: &Context<'_>) -> Reply {
        self.purge_expired(context.now);
        let request = match request::parse(body) {
            Ok(request) => request,
            Err(RequestError::Malformed(detail)) => return gateway_error(&detail),
            Err(RequestError::Schema { control, message }) => {
                let item = ErrorItem::new(
                    codes::SCHEMA_ERROR,
                    format!("{}{message}", codes::SCHEMA_ERROR_PREFIX),
                );
                return control_failure(control.as_ref(), item, "schema error");
            }
        };
        let control = &request.control;

        let dtd_version = control.dtd_version.as_deref().unwrap_or_default();
        if dtd_version != "3.0" {
            let item = ErrorItem::new(
                codes::SCHEMA_ERROR,
                format!(
                    "{}dtdversion {dtd_version:?} is not supported",
                    codes::SCHEMA_ERROR_PREFIX
                ),
            )
            .with_correction("Send <dtdversion>3.0</dtdversion>.");
            return control_failure(control, item, "unsupported dtdversion");
        }

        let sender_id = control.sender_id.as_deref().unwrap_or_default();
        let sender_password = control.password.as_deref().unwrap_or_default();
        let sender_ok = self
            .config
            .senders
            .iter()
            .any(|sender| sender.id == sender_id && sender.password == sender_password);
        if !sender_ok {
            let item = ErrorItem::new(codes::AUTHENTICATION_FAILED, codes::SENDER_INVALID_TEXT);
            return control_failure(control, item, &format!("sender {sender_id:?} rejected"));
        }

        let caller = match self.authenticate(&request.operation.authentication, context) {
            Ok(caller) => caller,
            Err(failure) => return failure.into_reply(control),
        };

        let outcomes = self.run_functions(
            &request.operation.functions,
            request.operation.transaction,
            &caller,
            context,
        );
        success_reply(
            control,
            &caller,
            &request.operation.functions,
            &outcomes,
            context,
        )
    }

    fn authenticate(
        &mut self,
        authentication: &Authentication,
        context: &Context<'_>,
    ) -> Result<Caller, Box<AuthenticationFailure>> {
        match authentication {
            Authentication::Login {
                user_id,
                company_id,
                password,
                location_id,
            } => self.log_in(
                user_id,
                company_id,
                password,
                location_id.as_deref(),
                context,
            ),
            Authentication::Session(session_id) => {
                let expires_at = context.now.saturating_add(self.session_seconds());
                let Some(session) = self.sessions.get_mut(session_id) else {
                    return Err(Box::new(AuthenticationFailure {
                        user_id: String::new(),
                        company_id: String::new(),
                        item: ErrorItem::new(
                            codes::AUTHENTICATION_FAILED,
                            codes::SESSION_INVALID_TEXT,
                        )
                        .with_correction(
                            "Sign in again, or call getAPISession with login credentials.",
                        ),
                        summary: format!("session {} unknown or expired", redact(session_id)),
                    }));
                };
                session.expires_at = expires_at;
                Ok(Caller {
                    session_id: session_id.clone(),
                    company: session.company,
                    user: session.user,
                    user_id: session.user_id.clone(),
                    company_id: session.company_id.clone(),
                    location: session.location.clone(),
                    expires_at,
                })
            }
        }
    }

    fn log_in(
        &mut self,
        user_id: &str,
        company_id: &str,
        password: &str,
        location_id: Option<&str>,
        context: &Context<'_>,
    ) -> Result<Caller, Box<AuthenticationFailure>> {
        let failure = |correction: String, reason: &str| {
            Box::new(AuthenticationFailure {
                user_id: user_id.to_owned(),
                company_id: company_id.to_owned(),
                item: ErrorItem::new(codes::AUTHENTICATION_FAILED, codes::SIGN_IN_INVALID_TEXT)
                    .with_correction(correction),
                summary: format!(
                    "login of user {user_id:?} to company {company_id:?} rejected: {reason}"
                ),
            })
        };
        let credentials_failure = || {
            failure(
                String::from("Check the company id, user id and password."),
                "bad credentials",
            )
        };

        let company_index = self
            .config
            .company_index(company_id)
            .ok_or_else(credentials_failure)?;
        let company = self
            .config
            .companies
            .get(company_index)
            .ok_or_else(credentials_failure)?;
        let user_index = company
            .user_index(user_id)
            .ok_or_else(credentials_failure)?;
        let user = company
            .users
            .get(user_index)
            .ok_or_else(credentials_failure)?;
        if user.password != password {
            return Err(credentials_failure());
        }

        let location = match location_id {
            None | Some("") => match &user.restricted_to {
                // A restricted user lands in the first entity it may use.
                Some(allowed) => allowed
                    .first()
                    .and_then(|first| company.entity_index(first))
                    .and_then(|index| company.entities.get(index))
                    .map(|entity| entity.id.clone()),
                None => None,
            },
            Some(requested) => {
                let entity = company
                    .entity_index(requested)
                    .and_then(|index| company.entities.get(index))
                    .ok_or_else(|| {
                        failure(
                            format!("Entity {requested:?} does not exist in this company; check the login locationid."),
                            "unknown entity",
                        )
                    })?;
                if !user.may_use_entity(&entity.id) {
                    return Err(failure(
                        format!("This user has no access to entity {:?}.", entity.id),
                        "entity not allowed",
                    ));
                }
                Some(entity.id.clone())
            }
        };

        let expires_at = context.now.saturating_add(self.session_seconds());
        let session_id = self.new_session(Session {
            company: company_index,
            user: user_index,
            user_id: user_id.to_owned(),
            company_id: company_id.to_owned(),
            location: location.clone(),
            expires_at,
        });
        Ok(Caller {
            session_id,
            company: company_index,
            user: user_index,
            user_id: user_id.to_owned(),
            company_id: company_id.to_owned(),
            location,
            expires_at,
        })
    }

    fn new_session(&mut self, session: Session) -> String {
        loop {
            let id = self.random_session_id();
            if !self.sessions.contains_key(&id) {
                log::debug!(
                    "created session {} at {}",
                    redact(&id),
                    session.location.as_deref().unwrap_or("top level")
                );
                self.sessions.insert(id.clone(), session);
                return id;
            }
        }
    }

    fn random_session_id(&self) -> String {
        let mut id = String::with_capacity(SESSION_ID_RANDOM_CHARS + 2);
        let mut bytes = [0u8; 64];
        while id.len() < SESSION_ID_RANDOM_CHARS {
            if self.random.fill(&mut bytes).is_err() {
                log::warn!(
                    "the system random generator failed; using std's hasher keys for this session id"
                );
                fallback_random_bytes(&mut bytes);
            }
            for byte in bytes {
                // 248 = 4 * 62: rejecting larger bytes keeps the choice uniform.
                if byte < 248 && id.len() < SESSION_ID_RANDOM_CHARS {
                    let index = usize::from(byte) % SESSION_ID_ALPHABET.len();
                    if let Some(&character) = SESSION_ID_ALPHABET.get(index) {
                        id.push(char::from(character));
                    }
                }
            }
        }
        id.push_str("..");
        id
    }

    fn run_functions(
        &mut self,
        functions: &[FunctionCall],
        transaction: bool,
        caller: &Caller,
        context: &Context<'_>,
    ) -> Vec<Outcome> {
        let has_get_api_session = functions
            .iter()
            .any(|function| matches!(function.call, Call::GetApiSession(_)));
        let not_alone = has_get_api_session && functions.len() > 1;

        let mut created = Vec::new();
        let mut outcomes: Vec<Outcome> = functions
            .iter()
            .map(|function| self.run_function(function, not_alone, caller, context, &mut created))
            .collect();

        let any_failed = outcomes
            .iter()
            .any(|outcome| matches!(outcome, Outcome::Failure(_)));
        if transaction && any_failed {
            // Roll back: sessions created by this operation disappear.
            for session_id in &created {
                self.sessions.remove(session_id);
            }
            let rolled_back = ErrorItem::new(
                codes::TRANSACTION_ROLLED_BACK,
                codes::TRANSACTION_ROLLED_BACK_TEXT,
            );
            outcomes = outcomes
                .into_iter()
                .map(|outcome| match outcome {
                    Outcome::Failure(mut items) => {
                        items.push(rolled_back.clone());
                        Outcome::Aborted(items)
                    }
                    Outcome::Success(_) | Outcome::Aborted(_) => {
                        Outcome::Aborted(vec![rolled_back.clone()])
                    }
                })
                .collect();
        }
        outcomes
    }

    fn run_function(
        &mut self,
        function: &FunctionCall,
        get_api_session_not_alone: bool,
        caller: &Caller,
        context: &Context<'_>,
        created: &mut Vec<String>,
    ) -> Outcome {
        match &function.call {
            Call::GetApiSession(_) if get_api_session_not_alone => Outcome::Failure(vec![
                ErrorItem::new(
                    codes::GET_API_SESSION_NOT_ALONE,
                    "getAPISession must be the only function in its request",
                )
                .with_correction("Send getAPISession in a request of its own."),
            ]),
            Call::GetApiSession(level) => self.get_api_session(level, caller, context, created),
            Call::ReadByQuery(object) => self.read_by_query(object.as_deref(), caller),
            Call::Unknown => Outcome::Failure(vec![
                ErrorItem::new(
                    codes::UNKNOWN_FUNCTION,
                    format!("Unknown function {:?}", function.name),
                )
                .with_correction("The simulator serves getAPISession and readByQuery."),
            ]),
        }
    }

    fn get_api_session(
        &mut self,
        level: &LevelRequest,
        caller: &Caller,
        context: &Context<'_>,
        created: &mut Vec<String>,
    ) -> Outcome {
        // Sessions store indices into the configuration, which never changes
        // after start, so both look-ups succeed.
        let Some(company) = self.config.companies.get(caller.company) else {
            return Outcome::Failure(vec![missing_user_error()]);
        };
        let Some(user) = company.users.get(caller.user) else {
            return Outcome::Failure(vec![missing_user_error()]);
        };

        let target = match level {
            LevelRequest::Current => None,
            LevelRequest::TopLevel => {
                if user.restricted_to.is_some() {
                    return Outcome::Failure(vec![
                        ErrorItem::new(
                            codes::TOP_LEVEL_DENIED,
                            format!(
                                "User {:?} is restricted to entity-level access and cannot get a top-level session",
                                caller.user_id
                            ),
                        )
                        .with_correction("Ask for one of the user's entities instead."),
                    ]);
                }
                Some(None)
            }
            LevelRequest::Entity(requested) => {
                let Some(entity) = company
                    .entity_index(requested)
                    .and_then(|index| company.entities.get(index))
                else {
                    return Outcome::Failure(vec![
                        ErrorItem::new(
                            codes::ENTITY_NOT_FOUND,
                            format!(
                                "Invalid location ID {requested:?}: no such entity in company {:?}",
                                caller.company_id
                            ),
                        ),
                        ErrorItem::new(codes::CORRECTION_HINT, "Could not create an API session")
                            .with_description("getAPISession failed")
                            .with_correction(
                                "Use a location ID that readByQuery on LOCATION lists, or an empty locationid for the top level.",
                            ),
                    ]);
                };
                if !user.may_use_entity(&entity.id) {
                    return Outcome::Failure(vec![
                        ErrorItem::new(
                            codes::ENTITY_DENIED,
                            format!(
                                "User {:?} has no access to entity {:?}",
                                caller.user_id, entity.id
                            ),
                        )
                        .with_correction("Ask for an entity this user is restricted to."),
                    ]);
                }
                Some(Some(entity.id.clone()))
            }
        };

        let (session_id, location) = match target {
            // Same level as the caller: the caller's own session.
            None => (caller.session_id.clone(), caller.location.clone()),
            Some(location) if location == caller.location => (caller.session_id.clone(), location),
            Some(location) => {
                let session_id = self.new_session(Session {
                    company: caller.company,
                    user: caller.user,
                    user_id: caller.user_id.clone(),
                    company_id: caller.company_id.clone(),
                    location: location.clone(),
                    expires_at: context.now.saturating_add(self.session_seconds()),
                });
                created.push(session_id.clone());
                (session_id, location)
            }
        };
        Outcome::Success(ResultData::ApiSession {
            session_id,
            location,
        })
    }

    fn read_by_query(&self, object: Option<&str>, caller: &Caller) -> Outcome {
        let object = object.unwrap_or_default();
        if !object.eq_ignore_ascii_case("LOCATION") {
            return Outcome::Failure(vec![
                ErrorItem::new(
                    codes::QUERY_FAILED,
                    format!("Object definition {object} not found"),
                )
                .with_correction("The simulator serves readByQuery on LOCATION only."),
            ]);
        }
        let Some(company) = self.config.companies.get(caller.company) else {
            return Outcome::Success(ResultData::Locations(Vec::new()));
        };
        let user = company.users.get(caller.user);
        let locations = company
            .entities
            .iter()
            .filter(|entity| user.is_some_and(|user| user.may_use_entity(&entity.id)))
            .map(|entity| (entity.id.clone(), entity.name.clone()))
            .collect();
        Outcome::Success(ResultData::Locations(locations))
    }
}

/// An authentication-layer failure, sent with HTTP 401.
struct AuthenticationFailure {
    user_id: String,
    company_id: String,
    item: ErrorItem,
    summary: String,
}

impl AuthenticationFailure {
    fn into_reply(self, control: &Control) -> Reply {
        let mut writer = XmlWriter::new();
        writer.open("response");
        write_control(&mut writer, control, "success");
        writer.open("operation");
        writer.open("authentication");
        writer.leaf("status", "failure");
        writer.leaf("userid", &self.user_id);
        writer.leaf("companyid", &self.company_id);
        writer.leaf("locationid", "");
        writer.close("authentication");
        write_errors(&mut writer, std::slice::from_ref(&self.item));
        writer.close("operation");
        writer.close("response");
        Reply {
            status: 401,
            body: writer.finish(),
            summary: format!(
                "authentication failure {}: {}",
                self.item.errorno, self.summary
            ),
        }
    }
}

fn gateway_error(detail: &str) -> Reply {
    let item = ErrorItem::new(codes::GATEWAY_INVALID_REQUEST, detail)
        .with_description(codes::GATEWAY_INVALID_REQUEST_DESCRIPTION)
        .with_correction("Send one well-formed UTF-8 XML document with a <request> root element.");
    let mut writer = XmlWriter::new();
    writer.open("response");
    writer.open("control");
    writer.leaf("status", "failure");
    writer.close("control");
    write_errors(&mut writer, std::slice::from_ref(&item));
    writer.close("response");
    Reply {
        status: 400,
        body: writer.finish(),
        summary: format!("gateway error {}: {detail}", codes::GATEWAY_INVALID_REQUEST),
    }
}

fn control_failure(control: &Control, item: ErrorItem, reason: &str) -> Reply {
    let mut writer = XmlWriter::new();
    writer.open("response");
    write_control(&mut writer, control, "failure");
    write_errors(&mut writer, std::slice::from_ref(&item));
    writer.close("response");
    Reply {
        status: 200,
        body: writer.finish(),
        summary: format!("control failure {}: {reason}", item.errorno),
    }
}

fn success_reply(
    control: &Control,
    caller: &Caller,
    functions: &[FunctionCall],
    outcomes: &[Outcome],
    context: &Context<'_>,
) -> Reply {
    let mut writer = XmlWriter::new();
    writer.open("response");
    write_control(&mut writer, control, "success");
    writer.open("operation");
    writer.open("authentication");
    writer.leaf("status", "success");
    writer.leaf("userid", &caller.user_id);
    writer.leaf("companyid", &caller.company_id);
    writer.leaf("locationid", caller.location.as_deref().unwrap_or_default());
    writer.leaf(
        "sessiontimestamp",
        &format_iso8601(context.now, context.utc_offset_minutes),
    );
    writer.leaf(
        "sessiontimeout",
        &format_iso8601(caller.expires_at, context.utc_offset_minutes),
    );
    writer.close("authentication");

    let mut summary = format!(
        "user {:?} via session {}:",
        caller.user_id,
        redact(&caller.session_id)
    );
    for (function, outcome) in functions.iter().zip(outcomes) {
        summary.push_str(&format!(" {}={}", function.name, outcome.status()));
        writer.open("result");
        writer.leaf("status", outcome.status());
        writer.leaf("function", &function.name);
        writer.leaf("controlid", &function.control_id);
        match outcome {
            Outcome::Success(data) => write_data(&mut writer, data, context),
            Outcome::Failure(items) | Outcome::Aborted(items) => write_errors(&mut writer, items),
        }
        writer.close("result");
    }
    writer.close("operation");
    writer.close("response");
    Reply {
        status: 200,
        body: writer.finish(),
        summary,
    }
}

fn write_control(writer: &mut XmlWriter, control: &Control, status: &str) {
    writer.open("control");
    writer.leaf("status", status);
    writer.leaf("senderid", control.sender_id.as_deref().unwrap_or_default());
    writer.leaf(
        "controlid",
        control.control_id.as_deref().unwrap_or_default(),
    );
    writer.leaf("uniqueid", control.unique_id.as_deref().unwrap_or("false"));
    writer.leaf(
        "dtdversion",
        control.dtd_version.as_deref().unwrap_or_default(),
    );
    writer.close("control");
}

fn write_errors(writer: &mut XmlWriter, items: &[ErrorItem]) {
    writer.open("errormessage");
    for item in items {
        writer.open("error");
        writer.leaf("errorno", &item.errorno);
        writer.leaf("description", &item.description);
        writer.leaf("description2", &item.description2);
        writer.leaf("correction", &item.correction);
        writer.close("error");
    }
    writer.close("errormessage");
}

fn write_data(writer: &mut XmlWriter, data: &ResultData, context: &Context<'_>) {
    match data {
        ResultData::ApiSession {
            session_id,
            location,
        } => {
            writer.open("data");
            writer.open("api");
            writer.leaf("sessionid", session_id);
            writer.leaf("endpoint", context.endpoint);
            writer.leaf("locationid", location.as_deref().unwrap_or_default());
            writer.close("api");
            writer.close("data");
        }
        ResultData::Locations(locations) => {
            let count = locations.len().to_string();
            let attributes = [
                ("listtype", "location"),
                ("count", count.as_str()),
                ("totalcount", count.as_str()),
                ("numremaining", "0"),
                ("resultId", ""),
            ];
            if locations.is_empty() {
                writer.empty_with_attributes("data", &attributes);
                return;
            }
            writer.open_with_attributes("data", &attributes);
            for (id, name) in locations {
                writer.open("location");
                writer.leaf("LOCATIONID", id);
                writer.leaf("NAME", name);
                writer.close("location");
            }
            writer.close("data");
        }
    }
}

fn missing_user_error() -> ErrorItem {
    ErrorItem::new(
        "",
        "Internal simulator error: the session's user is not in the configuration",
    )
}

/// Shortens a session id for logs: its first four characters and its length.
pub(crate) fn redact(session_id: &str) -> String {
    let prefix: String = session_id.chars().take(4).collect();
    format!("{prefix}…({} chars)", session_id.chars().count())
}

/// Fills `bytes` from std's per-process random hasher keys. Only used when
/// the operating system's generator fails; not cryptographically strong.
fn fallback_random_bytes(bytes: &mut [u8]) {
    for (index, chunk) in bytes.chunks_mut(8).enumerate() {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_usize(index);
        let value = hasher.finish().to_le_bytes();
        for (target, source) in chunk.iter_mut().zip(value) {
            *target = source;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_look_real() {
        let gateway = Gateway::new(Config::demo());
        let first = gateway.random_session_id();
        let second = gateway.random_session_id();
        assert_ne!(first, second);
        assert_eq!(first.len(), SESSION_ID_RANDOM_CHARS + 2);
        assert!(first.ends_with(".."), "{first}");
        assert!(
            first
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'.'),
            "{first}"
        );
    }

    #[test]
    fn redact_keeps_prefix_and_length() {
        assert_eq!(redact("abcdefgh.."), "abcd…(10 chars)");
        assert_eq!(redact(""), "…(0 chars)");
    }

    #[test]
    fn fallback_bytes_vary() {
        let mut bytes = [0u8; 32];
        fallback_random_bytes(&mut bytes);
        assert!(bytes.iter().any(|&byte| byte != 0));
    }
}
