//! The `request` envelope: `control`, `operation`, `authentication`, `content`.

use super::function::Function;
use super::{DTD_VERSION, RequestError, WriteError, check_control_id, check_required};
use crate::xml::escape::{Counter, IoSink, Sink, SliceSink, write_escaped};
use core::fmt;

/// Web Services sender credentials, sent in `control`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sender<'a> {
    /// `senderid`.
    pub sender_id: &'a str,
    /// `password` in `control`. Never printed.
    pub sender_password: &'a str,
}

impl fmt::Debug for Sender<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("sender_id", &self.sender_id)
            .field("sender_password", &"<redacted>")
            .finish()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Sender<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "Sender {{ sender_id: {=str}, sender_password: <redacted> }}",
            self.sender_id
        )
    }
}

/// The `control` element's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Control<'a> {
    /// Sender credentials.
    pub sender: Sender<'a>,
    /// `controlid`, echoed back in the response's `control`.
    pub control_id: &'a str,
    /// `uniqueid`: when `true`, the gateway rejects a second request with
    /// the same `controlid`. Default `false`.
    pub unique_id: bool,
    /// `policyid`, for asynchronous requests; `None` leaves it out.
    pub policy_id: Option<&'a str>,
    /// `includewhitespace`: when `true`, the gateway keeps whitespace in
    /// values. Default `false`.
    pub include_whitespace: bool,
}

impl<'a> Control<'a> {
    /// Control settings with the defaults the official SDKs use.
    pub const fn new(sender: Sender<'a>, control_id: &'a str) -> Self {
        Self {
            sender,
            control_id,
            unique_id: false,
            policy_id: None,
            include_whitespace: false,
        }
    }
}

/// User credentials for `authentication/login`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Login<'a> {
    /// `userid`.
    pub user_id: &'a str,
    /// `companyid`, passed through unchanged (`CONSOLE|CLIENT|ENTITY` forms
    /// included).
    pub company_id: &'a str,
    /// `password`. Never printed.
    pub password: &'a str,
    /// `locationid`: log straight in to this entity. `None` logs in at the
    /// user's default level; an empty string is rejected.
    pub location_id: Option<&'a str>,
}

impl fmt::Debug for Login<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Login")
            .field("user_id", &self.user_id)
            .field("company_id", &self.company_id)
            .field("password", &"<redacted>")
            .field("location_id", &self.location_id)
            .finish()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Login<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "Login {{ user_id: {=str}, company_id: {=str}, password: <redacted>, location_id: {} }}",
            self.user_id,
            self.company_id,
            self.location_id
        )
    }
}

/// The operation's authentication.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Authentication<'a> {
    /// `login`: user id, company id and password.
    Login(Login<'a>),
    /// `sessionid`: an existing API session. Never printed in full.
    Session(&'a str),
}

impl fmt::Debug for Authentication<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Login(login) => f.debug_tuple("Login").field(login).finish(),
            Self::Session(id) => f
                .debug_tuple("Session")
                .field(&crate::redact::Redacted(id))
                .finish(),
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Authentication<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Self::Login(login) => defmt::write!(f, "Login({})", login),
            Self::Session(id) => defmt::write!(f, "Session({})", crate::redact::Redacted(id)),
        }
    }
}

/// One request document holding exactly one function.
///
/// `getAPISession` must be alone in its request, so the type has room for
/// one function and no more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Request<'a, F> {
    /// The `control` element.
    pub control: Control<'a>,
    /// The `authentication` element.
    pub authentication: Authentication<'a>,
    /// `controlid` attribute of the `function` element, echoed back in the
    /// response's `result`.
    pub function_control_id: &'a str,
    /// The function.
    pub function: F,
}

impl<F: Function> Request<'_, F> {
    /// Checks every value: required ones non-empty, all within the XML 1.0
    /// character set, control ids within their capacity.
    pub fn validate(&self) -> Result<(), RequestError> {
        let control = &self.control;
        check_required("senderid", control.sender.sender_id)?;
        check_required("control/password", control.sender.sender_password)?;
        check_control_id("controlid", control.control_id)?;
        if let Some(policy_id) = control.policy_id {
            check_required("policyid", policy_id)?;
        }
        match &self.authentication {
            Authentication::Login(login) => {
                check_required("userid", login.user_id)?;
                check_required("companyid", login.company_id)?;
                check_required("login/password", login.password)?;
                if let Some(location_id) = login.location_id {
                    check_required("login/locationid", location_id)?;
                }
            }
            Authentication::Session(session_id) => check_required("sessionid", session_id)?,
        }
        check_control_id("function controlid", self.function_control_id)?;
        self.function.validate()
    }

    /// Validates, then returns the exact length of the document in bytes.
    pub fn encoded_len(&self) -> Result<usize, RequestError> {
        self.validate()?;
        let mut counter = Counter::default();
        let Ok(()) = self.write_unchecked(&mut counter);
        Ok(counter.len)
    }

    /// Validates, then writes the document into `buf`; returns its length.
    pub fn write_to_slice(&self, buf: &mut [u8]) -> Result<usize, RequestError> {
        let needed = self.encoded_len()?;
        if needed > buf.len() {
            return Err(RequestError::BufferTooSmall(
                crate::xml::escape::BufferTooSmall {
                    needed,
                    capacity: buf.len(),
                },
            ));
        }
        let mut sink = SliceSink::new(buf);
        self.write_unchecked(&mut sink)
            .map_err(RequestError::BufferTooSmall)?;
        Ok(sink.len())
    }

    /// Validates, then writes the document to `writer`; returns its length.
    /// Nothing is written when validation fails.
    pub fn write_to<W: embedded_io::Write>(
        &self,
        writer: &mut W,
    ) -> Result<usize, WriteError<W::Error>> {
        let len = self.encoded_len().map_err(WriteError::Invalid)?;
        self.write_unchecked(&mut IoSink::new(writer))
            .map_err(WriteError::Io)?;
        Ok(len)
    }

    fn write_unchecked<S: Sink>(&self, sink: &mut S) -> Result<(), S::Error> {
        let control = &self.control;
        sink.put_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<request><control><senderid>")?;
        write_escaped(sink, control.sender.sender_id)?;
        sink.put_str("</senderid><password>")?;
        write_escaped(sink, control.sender.sender_password)?;
        sink.put_str("</password><controlid>")?;
        write_escaped(sink, control.control_id)?;
        sink.put_str("</controlid><uniqueid>")?;
        sink.put_str(bool_text(control.unique_id))?;
        sink.put_str("</uniqueid><dtdversion>")?;
        sink.put_str(DTD_VERSION)?;
        sink.put_str("</dtdversion>")?;
        if let Some(policy_id) = control.policy_id {
            sink.put_str("<policyid>")?;
            write_escaped(sink, policy_id)?;
            sink.put_str("</policyid>")?;
        }
        sink.put_str("<includewhitespace>")?;
        sink.put_str(bool_text(control.include_whitespace))?;
        sink.put_str("</includewhitespace></control>")?;

        sink.put_str("<operation transaction=\"false\"><authentication>")?;
        match &self.authentication {
            Authentication::Login(login) => {
                sink.put_str("<login><userid>")?;
                write_escaped(sink, login.user_id)?;
                sink.put_str("</userid><companyid>")?;
                write_escaped(sink, login.company_id)?;
                sink.put_str("</companyid><password>")?;
                write_escaped(sink, login.password)?;
                sink.put_str("</password>")?;
                if let Some(location_id) = login.location_id {
                    sink.put_str("<locationid>")?;
                    write_escaped(sink, location_id)?;
                    sink.put_str("</locationid>")?;
                }
                sink.put_str("</login>")?;
            }
            Authentication::Session(session_id) => {
                sink.put_str("<sessionid>")?;
                write_escaped(sink, session_id)?;
                sink.put_str("</sessionid>")?;
            }
        }
        sink.put_str("</authentication>")?;

        sink.put_str("<content><function controlid=\"")?;
        write_escaped(sink, self.function_control_id)?;
        sink.put_str("\">")?;
        self.function.write(sink)?;
        sink.put_str("</function></content></operation></request>")
    }
}

fn bool_text(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}
