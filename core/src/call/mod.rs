//! Functions called with an existing session, and their results.
//!
//! [`Client::call`](crate::client::Client::call) sends any [`Function`]
//! with `<sessionid>` authentication to the session's endpoint. A function
//! body comes from a type that implements [`Function`] (such as
//! [`ReadByQuery`]) or from a closure given to [`from_fn`], which writes
//! through a [`FunctionWriter`] that checks and escapes every value.
//!
//! The response comes back as a [`CallResult`]: the function's status, its
//! error items when it failed, and its `data` element as a borrowed
//! [`Data`] with readers for records and values. Failures at the control
//! and authentication layers are errors instead, because the function did
//! not run. [`is_session_rejected`] identifies a rejected session.

mod read_by_query;
mod writer;

pub use read_by_query::ReadByQuery;
pub use writer::{FromFn, FunctionWriter, WriteFailed, from_fn};

use crate::client::{ClientError, Exchange, check_response};
use crate::data::Data;
use crate::request::{Function, RequestError};
use crate::response::{
    AuthenticationBlock, AuthenticationInfo, ControlBlock, ErrorRef, GatewayError, Layer,
    MAX_ERRORS, ParseError, ParseErrorKind, Response, ResponseError, ResultBlock, Status,
};
use crate::session::Session;
use crate::xml::escape::Sink;

/// A reference to a function is the same function, so one value can be
/// sent twice (a retry after a new login) without being copied.
impl<F: Function> Function for &F {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn validate(&self) -> Result<(), RequestError> {
        (**self).validate()
    }

    fn write<S: Sink>(&self, sink: &mut S) -> Result<(), S::Error> {
        (**self).write(sink)
    }
}

/// The result of a function called with a session, borrowed from the
/// body buffer.
///
/// It is `Copy` and has no destructor, so the buffer is free again after
/// the result's last use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallResult<'b> {
    /// The response's `control` element.
    pub control: ControlBlock<'b>,
    /// The response's `authentication` element, when present.
    pub authentication: Option<AuthenticationBlock<'b>>,
    /// The response's `result` element.
    pub result: ResultBlock<'b>,
    /// The result's `status`.
    pub status: Status,
    /// The checked `data` element, when the result has one.
    pub data: Option<Data<'b>>,
    /// The HTTP status the response came with.
    pub http_status: u16,
    /// Attempts the client made, the successful one included.
    pub attempts: u8,
    errors: [Option<ErrorRef<'b>>; MAX_ERRORS],
    omitted_errors: usize,
    body_len: usize,
}

impl<'b> CallResult<'b> {
    /// Whether the function succeeded.
    pub fn is_success(&self) -> bool {
        self.status == Status::Success
    }

    /// Returns the function's error items, borrowed, in document order: at most
    /// [`MAX_ERRORS`]. Empty when it succeeded.
    pub fn errors(&self) -> impl Iterator<Item = &ErrorRef<'b>> {
        self.errors.iter().flatten()
    }

    /// Returns the function's failure as an owned error, `None` when it
    /// succeeded.
    pub fn error(&self) -> Option<GatewayError> {
        if self.is_success() {
            return None;
        }
        let mut error = GatewayError::new(Layer::Result, self.status, Some(self.http_status));
        for item in self.errors() {
            error.push(item);
        }
        error.omitted += self.omitted_errors;
        Some(error)
    }

    /// Returns the `data` element of a successful function, `Ok(None)` when
    /// it returned none, and the function's error when it failed.
    pub fn into_data(self) -> Result<Option<Data<'b>>, GatewayError> {
        match self.error() {
            Some(error) => Err(error),
            None => Ok(self.data),
        }
    }

    /// Reads a result from a body that [`finish`] already checked.
    fn read(response: &Response<'b>, exchange: &Exchange<'b>) -> Result<Self, ResponseError> {
        let missing = |field| ParseError {
            kind: ParseErrorKind::Missing { field },
            offset: 0,
        };
        let result = response.result.ok_or(missing("operation/result"))?;
        let status = result.status.ok_or(missing("result/status"))?;
        let status = Status::from_text(&status);
        let data = match result.data {
            None => None,
            Some(element) => {
                let base = offset_in(exchange.body, element);
                Some(Data::parse(element).map_err(|mut error| {
                    error.offset += base;
                    error
                })?)
            }
        };

        let mut errors = [None; MAX_ERRORS];
        let mut kept_items = 0;
        for (slot, item) in errors.iter_mut().zip(response.errors(Layer::Result)) {
            *slot = Some(*item);
            kept_items += 1;
        }
        let omitted_errors = if status == Status::Success {
            0
        } else {
            // The response counts the items it could not keep; the count is
            // only available through the owned error.
            let all = response.gateway_error(Layer::Result, status, None);
            (all.error_count() + all.omitted).saturating_sub(kept_items)
        };

        Ok(Self {
            control: response.control,
            authentication: response.authentication,
            result,
            status,
            data,
            http_status: exchange.status,
            attempts: exchange.attempts,
            errors,
            omitted_errors,
            body_len: exchange.body.len(),
        })
    }

    /// Returns what is needed to read this result again from the same
    /// buffer.
    pub(crate) fn receipt(&self) -> CallReceipt {
        CallReceipt {
            http_status: self.http_status,
            body_len: self.body_len,
            attempts: self.attempts,
        }
    }

    /// Reads again a result that was checked and recorded before, from the
    /// body buffer that still contains it.
    pub(crate) fn reread(body: &'b [u8], receipt: CallReceipt) -> Result<Self, ResponseError> {
        let exchange = Exchange {
            status: receipt.http_status,
            body: body.get(..receipt.body_len).unwrap_or_default(),
            attempts: receipt.attempts,
        };
        let response = Response::parse(exchange.body)?;
        Self::read(&response, &exchange)
    }
}

/// A checked call result whose body is still in the body buffer.
///
/// It lets the session manager decide on a retry before it borrows the
/// buffer for the result it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CallReceipt {
    http_status: u16,
    body_len: usize,
    attempts: u8,
}

/// Returns where `part`, a slice of `whole`, starts in it, or 0 when it is
/// not a slice of `whole`.
fn offset_in(whole: &[u8], part: &str) -> usize {
    let start = whole.as_ptr() as usize;
    let part_start = part.as_ptr() as usize;
    if part_start >= start && part_start <= start.saturating_add(whole.len()) {
        part_start - start
    } else {
        0
    }
}

/// Returns whether `error` is the gateway rejecting the request's
/// authentication. For a call made with a session, that means the session
/// is invalid or has expired.
pub fn is_session_rejected<E>(error: &ClientError<E>) -> bool {
    error
        .gateway_error()
        .is_some_and(|gateway| gateway.layer == Layer::Authentication)
}

/// Interprets the response to a session-authenticated call and records its
/// `authentication` element in `session`, received at `received_at_ms`.
///
/// Control and authentication failures are errors; a function failure with
/// a 2xx status is a [`CallResult`] with that status.
pub(crate) fn finish<'b, E>(
    exchange: &Exchange<'b>,
    control_id: &str,
    function_control_id: &str,
    session: &mut Session,
    received_at_ms: u64,
) -> Result<CallResult<'b>, ClientError<E>> {
    let response = match check_response(exchange, control_id, function_control_id) {
        Ok(response) => response,
        Err(ClientError::Response(ResponseError::Gateway(error)))
            if error.layer == Layer::Result && (200..300).contains(&exchange.status) =>
        {
            // The function failed but the session worked: keep the response
            // and its result. Its control ids have not been compared yet.
            let response = Response::parse(exchange.body).map_err(ResponseError::from)?;
            response.check_control_ids(control_id, function_control_id)?;
            response
        }
        Err(error) => return Err(error),
    };

    match response.authentication_info() {
        Ok(Some(authentication)) => session.record(&authentication, Some(received_at_ms)),
        Ok(None) => {}
        Err(_) => {
            // The call ran, so failing it would invite a repeat. The lifetime
            // becomes unknown and the renewal interval takes over.
            warn!("session timestamps in the response are malformed; lifetime now unknown");
            session.record(&AuthenticationInfo::default(), Some(received_at_ms));
        }
    }
    Ok(CallResult::read(&response, exchange)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::{ApiSession, Location, SessionId};

    fn session() -> Session {
        let api = ApiSession {
            session_id: SessionId::new("abcdefghijklmnop..").unwrap(),
            endpoint: "https://api.intacct.com/ia/xml/xmlgw.phtml"
                .try_into()
                .unwrap(),
            location: Location::TopLevel,
        };
        Session::new(api, None, Some(0))
    }

    fn body(auth: &str, result: &str) -> std::string::String {
        std::format!(
            "<response><control><status>success</status><controlid>c-1</controlid></control>\
             <operation>{auth}{result}</operation></response>"
        )
    }

    const AUTH: &str = "<authentication><status>success</status>\
        <sessiontimestamp>2026-01-01T00:00:00+00:00</sessiontimestamp>\
        <sessiontimeout>2026-01-01T00:30:00+00:00</sessiontimeout></authentication>";

    fn exchange(body: &str, status: u16) -> Exchange<'_> {
        Exchange {
            status,
            body: body.as_bytes(),
            attempts: 1,
        }
    }

    #[test]
    fn finish_records_lifetime_and_reads_data() {
        let text = body(
            AUTH,
            "<result><status>success</status><function>readByQuery</function>\
             <controlid>f-1</controlid><data count=\"1\"><location><NAME>E&amp;W</NAME>\
             </location></data></result>",
        );
        let mut session = session();
        let result =
            finish::<()>(&exchange(&text, 200), "c-1", "f-1", &mut session, 5_000).unwrap();
        assert!(result.is_success());
        assert_eq!(result.error(), None);
        assert_eq!(result.errors().count(), 0);
        assert_eq!(session.lifetime.expires_at_ms(), Some(5_000 + 1_800_000));
        let data = result.into_data().unwrap().unwrap();
        assert_eq!(data.count(), Ok(Some(1)));
        let name = data.records().next().unwrap().field("NAME").unwrap();
        assert!(name.eq_str("E&W"));

        let again = CallResult::reread(text.as_bytes(), result.receipt()).unwrap();
        assert_eq!(again, result);
    }

    #[test]
    fn finish_returns_function_failure_as_result() {
        let text = body(
            AUTH,
            "<result><status>failure</status><function>readByQuery</function>\
             <controlid>f-1</controlid><errormessage><error><errorno>Query Failed</errorno>\
             <description2>Object definition VENDOR not found</description2></error>\
             </errormessage></result>",
        );
        let mut session = session();
        let result = finish::<()>(&exchange(&text, 200), "c-1", "f-1", &mut session, 7).unwrap();
        assert_eq!(result.status, Status::Failure);
        assert_eq!(result.data, None);
        let error = result.error().unwrap();
        assert_eq!(error.layer, Layer::Result);
        assert!(error.has_errorno("Query Failed"));
        assert!(
            result
                .errors()
                .next()
                .unwrap()
                .errorno
                .unwrap()
                .eq_str("Query Failed")
        );
        assert_eq!(
            session.lifetime.received_at_ms,
            Some(7),
            "lifetime recorded"
        );
        assert!(result.into_data().is_err());

        let wrong_echo = finish::<()>(&exchange(&text, 200), "c-1", "f-2", &mut session, 7);
        assert!(matches!(
            wrong_echo,
            Err(ClientError::Response(ResponseError::ControlIdMismatch {
                field: "function controlid"
            }))
        ));
    }

    #[test]
    fn call_result_counts_errors_beyond_capacity() {
        let mut items = std::string::String::new();
        for number in 1..=MAX_ERRORS + 2 {
            items.push_str(&std::format!("<error><errorno>E{number}</errorno></error>"));
        }
        let text = body(
            AUTH,
            &std::format!(
                "<result><status>failure</status><controlid>f-1</controlid>\
                 <errormessage>{items}</errormessage></result>"
            ),
        );
        let mut session = session();
        let result = finish::<()>(&exchange(&text, 200), "c-1", "f-1", &mut session, 7).unwrap();
        assert_eq!(result.errors().count(), MAX_ERRORS);
        let error = result.error().unwrap();
        assert_eq!(error.error_count(), MAX_ERRORS);
        assert_eq!(error.omitted, 2);
        assert!(error.has_errorno("E1"));
    }

    #[test]
    fn finish_reports_rejected_session() {
        let text = "<response><control><status>success</status><controlid>c-1</controlid>\
            </control><operation><authentication><status>failure</status></authentication>\
            <errormessage><error><errorno>XL03000006</errorno><description2>Invalid session\
            </description2></error></errormessage></operation></response>";
        let mut session = session();
        let before = session.lifetime;
        let error = finish::<()>(&exchange(text, 401), "c-1", "f-1", &mut session, 7).unwrap_err();
        assert!(is_session_rejected(&error));
        assert_eq!(session.lifetime, before, "nothing recorded");
        let other =
            ClientError::<()>::Http(crate::http::HttpError::ClosedBeforeHead { received: 0 });
        assert!(!is_session_rejected(&other));
    }

    #[test]
    fn finish_reports_bad_data_offset_in_body() {
        let text = body(
            AUTH,
            "<result><status>success</status><controlid>f-1</controlid>\
             <data><r>&bogus;</r></data></result>",
        );
        let mut session = session();
        let error = finish::<()>(&exchange(&text, 200), "c-1", "f-1", &mut session, 7).unwrap_err();
        let ClientError::Response(ResponseError::Parse(parse)) = error else {
            panic!("expected a parse error, got {error:?}");
        };
        assert_eq!(parse.offset, text.find("&bogus;").unwrap());
    }

    #[test]
    fn finish_keeps_call_when_timestamps_are_malformed() {
        let auth = "<authentication><status>success</status>\
            <sessiontimestamp>yesterday</sessiontimestamp></authentication>";
        let text = body(
            auth,
            "<result><status>success</status><controlid>f-1</controlid></result>",
        );
        let mut session = session();
        let result = finish::<()>(&exchange(&text, 200), "c-1", "f-1", &mut session, 9).unwrap();
        assert!(result.is_success());
        assert_eq!(session.lifetime.session_timeout, None);
        assert_eq!(session.lifetime.received_at_ms, Some(9));
    }
}
