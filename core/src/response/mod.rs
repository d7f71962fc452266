//! Reading gateway responses.
//!
//! [`Response::parse`] reads a whole body in one pass with `xmlparser` and
//! keeps borrowed, checked text for the values the client needs. The
//! methods that follow copy what outlives the body into fixed-capacity
//! values ([`ApiSession`], [`AuthenticationInfo`], [`GatewayError`]).
//!
//! The reader accepts what the gateway and the CDN in front of it send: a
//! UTF-8 byte-order mark and whitespace before the declaration,
//! indentation, comments, CDATA, unknown elements and trailing whitespace.
//! It rejects invalid UTF-8, mismatched tags, bad references and nesting
//! deeper than [`MAX_DEPTH`], with the byte offset.

mod error;
mod reader;

pub use error::{
    ERROR_TEXT_CAPACITY, ERRORNO_CAPACITY, ErrorDetail, ErrorRef, GatewayError, Layer, MAX_ERRORS,
    ParseError, ParseErrorKind, Status,
};

use crate::endpoint::{ENDPOINT_CAPACITY, EndpointUrl};
use crate::time::{TimestampError, parse_unix_seconds};
pub use crate::xml::text::{CapacityError, XmlText};
use core::fmt;

/// Maximum element nesting depth. getAPISession responses nest six deep
/// (`response/operation/result/data/api/sessionid`); the margin leaves room
/// for the `data` of other functions.
pub const MAX_DEPTH: usize = 24;

/// Capacity of a session id in bytes. Gateway session ids seen in the
/// official SDKs' tests are about 40 bytes.
pub const SESSION_ID_CAPACITY: usize = 128;

/// Capacity of a `locationid` (entity id) in bytes.
pub const LOCATION_ID_CAPACITY: usize = 64;

/// Capacity of a `userid` in bytes.
pub const USER_ID_CAPACITY: usize = 80;

/// Capacity of a `companyid` in bytes, room for `CONSOLE|CLIENT|ENTITY`.
pub const COMPANY_ID_CAPACITY: usize = 128;

/// An owned session id. Its `Debug` form is the redacted one from
/// [`SessionId`]; use [`SessionId::expose`] to send it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SessionId(heapless::String<SESSION_ID_CAPACITY>);

impl SessionId {
    /// Wraps a session id given by the caller, such as one stored across a
    /// reboot.
    pub fn new(id: &str) -> Result<Self, CapacityError> {
        let mut value = heapless::String::new();
        value.push_str(id).map_err(|_| CapacityError {
            field: "sessionid",
            capacity: SESSION_ID_CAPACITY,
        })?;
        Ok(Self(value))
    }

    /// Returns the full id, for `authentication/sessionid`. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&crate::redact::Redacted(&self.0), f)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&crate::redact::Redacted(&self.0), f)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for SessionId {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::Format::format(&crate::redact::Redacted(&self.0), f)
    }
}

/// The level a session is at, as a response states it.
///
/// `locationid` can be missing, empty or an entity id, and these mean
/// different things, so they stay distinct.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Location {
    /// No `locationid` element: the response left the location out.
    #[default]
    Unstated,
    /// An empty `locationid`: the top level of the company.
    TopLevel,
    /// An entity id.
    Entity(heapless::String<LOCATION_ID_CAPACITY>),
}

impl Location {
    fn from_text(text: Option<XmlText<'_>>) -> Result<Self, CapacityError> {
        match text {
            None => Ok(Self::Unstated),
            Some(text) if text.is_empty() => Ok(Self::TopLevel),
            Some(text) => Ok(Self::Entity(text.decode("locationid")?)),
        }
    }

    /// Returns the entity id, when the location is an entity.
    pub fn entity(&self) -> Option<&str> {
        match self {
            Self::Entity(id) => Some(id),
            Self::Unstated | Self::TopLevel => None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unstated => f.write_str("(not stated)"),
            Self::TopLevel => f.write_str("top level"),
            Self::Entity(id) => write!(f, "entity {id}"),
        }
    }
}

/// The `control` element, borrowed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ControlBlock<'a> {
    /// `status`.
    pub status: Option<XmlText<'a>>,
    /// `senderid`.
    pub sender_id: Option<XmlText<'a>>,
    /// `controlid`, the echo of the request's.
    pub control_id: Option<XmlText<'a>>,
    /// `uniqueid`.
    pub unique_id: Option<XmlText<'a>>,
    /// `dtdversion`.
    pub dtd_version: Option<XmlText<'a>>,
}

/// The `operation/authentication` element, borrowed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthenticationBlock<'a> {
    /// `status`.
    pub status: Option<XmlText<'a>>,
    /// `userid`.
    pub user_id: Option<XmlText<'a>>,
    /// `companyid`.
    pub company_id: Option<XmlText<'a>>,
    /// `locationid`.
    pub location_id: Option<XmlText<'a>>,
    /// `sessiontimestamp`: when the gateway handled the call.
    pub session_timestamp: Option<XmlText<'a>>,
    /// `sessiontimeout`: when the session expires unless used again.
    pub session_timeout: Option<XmlText<'a>>,
}

/// The `operation/result` element, borrowed.
///
/// Its `Debug` output redacts `session_id` and shows only the length of
/// `data`, which contains the session id of a `getAPISession` result.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct ResultBlock<'a> {
    /// `status`.
    pub status: Option<XmlText<'a>>,
    /// `function`.
    pub function: Option<XmlText<'a>>,
    /// `controlid`, the echo of the function's.
    pub control_id: Option<XmlText<'a>>,
    /// The whole `data` element, tags included, as it appears in the body.
    pub data: Option<&'a str>,
    /// `data/api/sessionid`.
    pub session_id: Option<XmlText<'a>>,
    /// `data/api/endpoint`.
    pub endpoint: Option<XmlText<'a>>,
    /// `data/api/locationid`.
    pub location_id: Option<XmlText<'a>>,
}

impl fmt::Debug for ResultBlock<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResultBlock")
            .field("status", &self.status)
            .field("function", &self.function)
            .field("control_id", &self.control_id)
            .field("data_len", &self.data.map(str::len))
            .field(
                "session_id",
                &self.session_id.map(|id| crate::redact::Redacted(id.raw())),
            )
            .field("endpoint", &self.endpoint)
            .field("location_id", &self.location_id)
            .finish()
    }
}

/// A response document, read and borrowed from its body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response<'a> {
    /// The `control` element.
    pub control: ControlBlock<'a>,
    /// The `operation/authentication` element, when present.
    pub authentication: Option<AuthenticationBlock<'a>>,
    /// The `operation/result` element, when present.
    pub result: Option<ResultBlock<'a>>,
    errors: heapless::Vec<(Layer, ErrorRef<'a>), MAX_ERRORS>,
    omitted: [usize; 3],
}

/// A session returned by `getAPISession`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ApiSession {
    /// `sessionid`.
    pub session_id: SessionId,
    /// `endpoint`: the URL later calls with this session must go to. Not
    /// yet checked against the host rule; see
    /// [`Endpoint::parse`](crate::endpoint::Endpoint::parse).
    pub endpoint: EndpointUrl,
    /// `locationid`: the level the session is at.
    pub location: Location,
}

/// The `authentication` element's values: the caller and the session's
/// lifetime.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AuthenticationInfo {
    /// `userid`.
    pub user_id: heapless::String<USER_ID_CAPACITY>,
    /// `companyid`.
    pub company_id: heapless::String<COMPANY_ID_CAPACITY>,
    /// `locationid`.
    pub location: Location,
    /// `sessiontimestamp` in Unix seconds, when present.
    pub session_timestamp: Option<i64>,
    /// `sessiontimeout` in Unix seconds, when present. `None` means the
    /// lifetime is unknown, not that the session has expired.
    pub session_timeout: Option<i64>,
}

/// A failure to turn a response into a result.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ResponseError {
    /// The document is malformed.
    Parse(ParseError),
    /// The gateway reported a failure.
    Gateway(GatewayError),
    /// A `controlid` in the response is not the one sent. The response
    /// belongs to another request.
    ControlIdMismatch {
        /// `controlid` or `function controlid`.
        field: &'static str,
    },
    /// A value is longer than its capacity.
    Capacity(CapacityError),
    /// A timestamp is malformed.
    Timestamp {
        /// `sessiontimestamp` or `sessiontimeout`.
        field: &'static str,
        /// The problem found.
        error: TimestampError,
    },
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Parse(e) => fmt::Display::fmt(e, f),
            Self::Gateway(e) => fmt::Display::fmt(e, f),
            Self::ControlIdMismatch { field } => write!(
                f,
                "response {field} does not match the request's; the response belongs to another request"
            ),
            Self::Capacity(e) => fmt::Display::fmt(e, f),
            Self::Timestamp { field, error } => write!(f, "{field}: {error}"),
        }
    }
}

impl core::error::Error for ResponseError {}

impl From<ParseError> for ResponseError {
    fn from(e: ParseError) -> Self {
        Self::Parse(e)
    }
}

impl From<CapacityError> for ResponseError {
    fn from(e: CapacityError) -> Self {
        Self::Capacity(e)
    }
}

impl From<GatewayError> for ResponseError {
    fn from(e: GatewayError) -> Self {
        Self::Gateway(e)
    }
}

impl<'a> Response<'a> {
    /// Reads a whole response body.
    pub fn parse(body: &'a [u8]) -> Result<Self, ParseError> {
        reader::read(body)
    }

    /// Returns the error items of one layer, in document order.
    pub fn errors(&self, layer: Layer) -> impl Iterator<Item = &ErrorRef<'a>> {
        self.errors
            .iter()
            .filter(move |(l, _)| *l == layer)
            .map(|(_, e)| e)
    }

    /// Checks the statuses of the three layers, in order, and returns the
    /// first failure with its error items. `http_status` is recorded in
    /// the error.
    pub fn check_status(&self, http_status: Option<u16>) -> Result<(), ResponseError> {
        let control_status = self.control.status.ok_or(ParseError {
            kind: ParseErrorKind::Missing {
                field: "control/status",
            },
            offset: 0,
        })?;
        let failure = |layer, status| self.gateway_error(layer, status, http_status);

        let status = Status::from_text(&control_status);
        if status != Status::Success {
            return Err(failure(Layer::Control, status).into());
        }
        if let Some(status) = self.authentication.and_then(|a| a.status) {
            let status = Status::from_text(&status);
            if status != Status::Success {
                return Err(failure(Layer::Authentication, status).into());
            }
        }
        // Authentication errors without an authentication element still
        // mean the operation failed.
        if self.errors(Layer::Authentication).next().is_some() {
            return Err(failure(Layer::Authentication, Status::Failure).into());
        }
        let result = self.result.ok_or(ParseError {
            kind: ParseErrorKind::Missing {
                field: "operation/result",
            },
            offset: 0,
        })?;
        let status = result.status.ok_or(ParseError {
            kind: ParseErrorKind::Missing {
                field: "result/status",
            },
            offset: 0,
        })?;
        let status = Status::from_text(&status);
        if status != Status::Success {
            return Err(failure(Layer::Result, status).into());
        }
        Ok(())
    }

    /// Checks that the echoed control ids match the ones sent. An echo the
    /// gateway left out of a failure is not a mismatch; one left out of a
    /// success is.
    pub fn check_control_ids(
        &self,
        control_id: &str,
        function_control_id: &str,
    ) -> Result<(), ResponseError> {
        let control_ok = self
            .control
            .control_id
            .is_some_and(|echo| echo.eq_str(control_id));
        let control_failed = self
            .control
            .status
            .is_none_or(|s| Status::from_text(&s) != Status::Success);
        let echo_left_out = control_failed && self.control.control_id.is_none();
        if !(control_ok || echo_left_out) {
            return Err(ResponseError::ControlIdMismatch { field: "controlid" });
        }
        if let Some(result) = self.result {
            let echo_ok = result
                .control_id
                .is_some_and(|echo| echo.eq_str(function_control_id));
            if !echo_ok {
                return Err(ResponseError::ControlIdMismatch {
                    field: "function controlid",
                });
            }
        }
        Ok(())
    }

    /// Copies the session out of a successful `getAPISession` result.
    pub fn api_session(&self) -> Result<ApiSession, ResponseError> {
        let missing = |field| ParseError {
            kind: ParseErrorKind::Missing { field },
            offset: 0,
        };
        let result = self.result.ok_or(missing("operation/result"))?;
        let session_id = result.session_id.ok_or(missing("data/api/sessionid"))?;
        let endpoint = result.endpoint.ok_or(missing("data/api/endpoint"))?;
        if session_id.is_empty() {
            return Err(missing("data/api/sessionid").into());
        }
        let session_id = SessionId(session_id.decode("sessionid")?);
        let endpoint: heapless::String<ENDPOINT_CAPACITY> = endpoint.decode("endpoint")?;
        let location = Location::from_text(result.location_id)?;
        Ok(ApiSession {
            session_id,
            endpoint,
            location,
        })
    }

    /// Copies the `authentication` element's values, converting the
    /// timestamps to Unix seconds. `None` when the element is absent.
    pub fn authentication_info(&self) -> Result<Option<AuthenticationInfo>, ResponseError> {
        let Some(block) = self.authentication else {
            return Ok(None);
        };
        let timestamp = |field, text: Option<XmlText<'_>>| -> Result<Option<i64>, ResponseError> {
            let Some(text) = text else { return Ok(None) };
            let value: heapless::String<64> = text.decode(field)?;
            let value = value.trim();
            if value.is_empty() {
                return Ok(None);
            }
            parse_unix_seconds(value)
                .map(Some)
                .map_err(|error| ResponseError::Timestamp { field, error })
        };
        Ok(Some(AuthenticationInfo {
            user_id: block.user_id.unwrap_or_default().decode("userid")?,
            company_id: block.company_id.unwrap_or_default().decode("companyid")?,
            location: Location::from_text(block.location_id)?,
            session_timestamp: timestamp("sessiontimestamp", block.session_timestamp)?,
            session_timeout: timestamp("sessiontimeout", block.session_timeout)?,
        }))
    }

    /// Like [`Response::authentication_info`], but a malformed timestamp
    /// leaves both timestamps `None` (an unknown lifetime) instead of
    /// failing. For a response whose function already ran, such as a
    /// session the gateway created, where failing would waste that work.
    pub fn authentication_info_or_unknown_lifetime(
        &self,
    ) -> Result<Option<AuthenticationInfo>, ResponseError> {
        match self.authentication_info() {
            Err(ResponseError::Timestamp { field, .. }) => {
                warn!("{} is malformed; the session's lifetime is unknown", field);
                let Some(block) = self.authentication else {
                    return Ok(None);
                };
                Ok(Some(AuthenticationInfo {
                    user_id: block.user_id.unwrap_or_default().decode("userid")?,
                    company_id: block.company_id.unwrap_or_default().decode("companyid")?,
                    location: Location::from_text(block.location_id)?,
                    session_timestamp: None,
                    session_timeout: None,
                }))
            }
            other => other,
        }
    }

    /// Builds the owned error for a failed layer.
    pub fn gateway_error(
        &self,
        layer: Layer,
        status: Status,
        http_status: Option<u16>,
    ) -> GatewayError {
        let mut error = GatewayError::new(layer, status, http_status);
        for item in self.errors(layer) {
            error.push(item);
        }
        error.omitted += self.omitted[layer_index(layer)];
        error
    }

    pub(crate) fn push_error(&mut self, layer: Layer, item: ErrorRef<'a>) {
        if self.errors.push((layer, item)).is_err() {
            self.omitted[layer_index(layer)] += 1;
        }
    }

    /// Returns the slot for the leaf at `path` with its field name, or
    /// `None` for elements this reader skips.
    pub(crate) fn slot(
        &mut self,
        path: &[&str],
    ) -> Option<(&'static str, &mut Option<XmlText<'a>>)> {
        match path {
            ["response", "control", leaf] => {
                let control = &mut self.control;
                Some(match *leaf {
                    "status" => ("control/status", &mut control.status),
                    "senderid" => ("control/senderid", &mut control.sender_id),
                    "controlid" => ("control/controlid", &mut control.control_id),
                    "uniqueid" => ("control/uniqueid", &mut control.unique_id),
                    "dtdversion" => ("control/dtdversion", &mut control.dtd_version),
                    _ => return None,
                })
            }
            ["response", "operation", "authentication", leaf] => {
                let auth = self.authentication.as_mut()?;
                Some(match *leaf {
                    "status" => ("authentication/status", &mut auth.status),
                    "userid" => ("authentication/userid", &mut auth.user_id),
                    "companyid" => ("authentication/companyid", &mut auth.company_id),
                    "locationid" => ("authentication/locationid", &mut auth.location_id),
                    "sessiontimestamp" => ("sessiontimestamp", &mut auth.session_timestamp),
                    "sessiontimeout" => ("sessiontimeout", &mut auth.session_timeout),
                    _ => return None,
                })
            }
            ["response", "operation", "result", leaf] => {
                let result = self.result.as_mut()?;
                Some(match *leaf {
                    "status" => ("result/status", &mut result.status),
                    "function" => ("result/function", &mut result.function),
                    "controlid" => ("result/controlid", &mut result.control_id),
                    _ => return None,
                })
            }
            ["response", "operation", "result", "data", "api", leaf] => {
                let result = self.result.as_mut()?;
                Some(match *leaf {
                    "sessionid" => ("api/sessionid", &mut result.session_id),
                    "endpoint" => ("api/endpoint", &mut result.endpoint),
                    "locationid" => ("api/locationid", &mut result.location_id),
                    _ => return None,
                })
            }
            [parent @ .., leaf] => {
                let layer = reader::error_item_layer(parent)?;
                if self.errors.last().is_none_or(|(l, _)| *l != layer)
                    || self.omitted[layer_index(layer)] > 0
                {
                    // The item was not kept; skip its fields.
                    return None;
                }
                let (_, item) = self.errors.last_mut()?;
                Some(match *leaf {
                    "errorno" => ("error/errorno", &mut item.errorno),
                    "description" => ("error/description", &mut item.description),
                    "description2" => ("error/description2", &mut item.description2),
                    "correction" => ("error/correction", &mut item.correction),
                    _ => return None,
                })
            }
            [] => None,
        }
    }
}

fn layer_index(layer: Layer) -> usize {
    match layer {
        Layer::Control => 0,
        Layer::Authentication => 1,
        Layer::Result => 2,
    }
}

#[cfg(test)]
mod tests;
