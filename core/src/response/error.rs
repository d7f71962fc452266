//! Errors from reading a response: malformed documents, and failures the
//! gateway reports at its three layers.

use crate::xml::text::{TextError, XmlText};
use core::fmt;

/// Maximum number of `errormessage/error` items a [`GatewayError`] keeps.
/// Further items are counted in [`GatewayError::omitted`].
pub const MAX_ERRORS: usize = 4;

/// Capacity of [`ErrorDetail::errorno`] in bytes. Gateway numbers look like
/// `XL03000006`, `BL34000061` or `GW-0011`.
pub const ERRORNO_CAPACITY: usize = 32;

/// Capacity of each error text (`description`, `description2`,
/// `correction`) in bytes. Longer texts are cut at a character boundary and
/// flagged in [`ErrorDetail::truncated`].
pub const ERROR_TEXT_CAPACITY: usize = 256;

/// Why a response document could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ParseError {
    /// What went wrong.
    pub kind: ParseErrorKind,
    /// Byte offset in the body where it was found.
    pub offset: usize,
}

/// The kinds of [`ParseError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The body is not valid UTF-8.
    InvalidUtf8,
    /// The body is not well-formed XML.
    Syntax,
    /// The document ended before its root element was closed.
    UnexpectedEnd,
    /// The body has no root element at all.
    Empty,
    /// The root element is not `response`.
    NotAResponse,
    /// An end tag does not match the open element.
    MismatchedTag,
    /// Elements are nested deeper than [`MAX_DEPTH`](super::MAX_DEPTH).
    TooDeep,
    /// A value's text has a bad reference or character.
    InvalidText {
        /// The element holding the text.
        field: &'static str,
        /// What is wrong with it.
        error: TextError,
    },
    /// An element that must hold text holds child elements.
    UnexpectedChild {
        /// The element.
        field: &'static str,
    },
    /// An element that may appear once appears twice.
    Duplicate {
        /// The element.
        field: &'static str,
    },
    /// A required element is missing.
    Missing {
        /// The element's path.
        field: &'static str,
    },
    /// More than one `result`: a request holds one function, so one result
    /// is expected.
    MultipleResults,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let offset = self.offset;
        match self.kind {
            ParseErrorKind::InvalidUtf8 => {
                write!(f, "response is not valid UTF-8 at byte {offset}")
            }
            ParseErrorKind::Syntax => {
                write!(f, "response is not well-formed XML near byte {offset}")
            }
            ParseErrorKind::UnexpectedEnd => {
                write!(
                    f,
                    "response ended at byte {offset} before </response>; it was cut short"
                )
            }
            ParseErrorKind::Empty => f.write_str("response has no XML element"),
            ParseErrorKind::NotAResponse => {
                write!(f, "root element at byte {offset} is not <response>")
            }
            ParseErrorKind::MismatchedTag => {
                write!(
                    f,
                    "end tag at byte {offset} does not match the open element"
                )
            }
            ParseErrorKind::TooDeep => write!(
                f,
                "elements nested deeper than {} at byte {offset}",
                super::MAX_DEPTH
            ),
            ParseErrorKind::InvalidText { field, error } => {
                write!(f, "<{field}> at byte {offset} has {error}")
            }
            ParseErrorKind::UnexpectedChild { field } => {
                write!(
                    f,
                    "<{field}> at byte {offset} holds elements where text was expected"
                )
            }
            ParseErrorKind::Duplicate { field } => {
                write!(f, "<{field}> appears twice (second at byte {offset})")
            }
            ParseErrorKind::Missing { field } => write!(f, "response has no {field}"),
            ParseErrorKind::MultipleResults => {
                write!(
                    f,
                    "second <result> at byte {offset}; one function gives one result"
                )
            }
        }
    }
}

impl core::error::Error for ParseError {}

/// The layer of the gateway that reported a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Layer {
    /// `control`: sender credentials, request format, gateway faults.
    Control,
    /// `operation/authentication`: user login or session.
    Authentication,
    /// `operation/result`: the function itself.
    Result,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Control => "control",
            Self::Authentication => "authentication",
            Self::Result => "result",
        })
    }
}

/// A `status` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Status {
    /// `success`.
    Success,
    /// `failure`.
    Failure,
    /// `aborted`: the function was not applied because another in the same
    /// transaction failed.
    Aborted,
    /// Any other value, treated as a failure.
    Other,
}

impl Status {
    pub(crate) fn from_text(text: &XmlText<'_>) -> Self {
        let (value, _) = text.decode_truncated::<16>();
        match value.trim() {
            "success" => Self::Success,
            "failure" => Self::Failure,
            "aborted" => Self::Aborted,
            _ => Self::Other,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Aborted => "aborted",
            Self::Other => "an unknown status",
        })
    }
}

/// One `errormessage/error` item, borrowed from the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ErrorRef<'a> {
    /// `errorno`.
    pub errorno: Option<XmlText<'a>>,
    /// `description`.
    pub description: Option<XmlText<'a>>,
    /// `description2`.
    pub description2: Option<XmlText<'a>>,
    /// `correction`.
    pub correction: Option<XmlText<'a>>,
}

/// One `errormessage/error` item, copied out of the body. Missing and empty
/// elements both give empty strings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ErrorDetail {
    /// `errorno`, such as `XL03000006` or `GW-0011`.
    pub errorno: heapless::String<ERRORNO_CAPACITY>,
    /// `description`.
    pub description: heapless::String<ERROR_TEXT_CAPACITY>,
    /// `description2`, usually the most specific text.
    pub description2: heapless::String<ERROR_TEXT_CAPACITY>,
    /// `correction`: what the gateway suggests doing.
    pub correction: heapless::String<ERROR_TEXT_CAPACITY>,
    /// Whether any of the four texts was cut to fit its capacity.
    pub truncated: bool,
}

impl ErrorDetail {
    pub(crate) fn copy_from(item: &ErrorRef<'_>) -> Self {
        let (errorno, cut_errorno) = item.errorno.unwrap_or_default().decode_truncated();
        let (description, cut_description) =
            item.description.unwrap_or_default().decode_truncated();
        let (description2, cut_description2) =
            item.description2.unwrap_or_default().decode_truncated();
        let (correction, cut_correction) = item.correction.unwrap_or_default().decode_truncated();
        Self {
            errorno,
            description,
            description2,
            correction,
            truncated: cut_errorno || cut_description || cut_description2 || cut_correction,
        }
    }

    /// Whether this is an error of the XML gateway itself (`GW-…`), such as
    /// a request it could not parse, rather than of a layer behind it.
    pub fn is_gateway_error(&self) -> bool {
        self.errorno.starts_with("GW-")
    }
}

impl fmt::Display for ErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errorno = if self.errorno.is_empty() {
            "(no errorno)"
        } else {
            self.errorno.as_str()
        };
        f.write_str(errorno)?;
        let mut separator = ": ";
        for text in [&self.description, &self.description2] {
            let text = text.trim();
            if !text.is_empty() {
                write!(f, "{separator}{text}")?;
                separator = "; ";
            }
        }
        let correction = self.correction.trim();
        if !correction.is_empty() {
            write!(f, " (correction: {correction})")?;
        }
        if self.truncated {
            f.write_str(" [text truncated]")?;
        }
        Ok(())
    }
}

/// A failure the gateway reported, with every error item it sent (up to
/// [`MAX_ERRORS`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GatewayError {
    /// The layer that failed.
    pub layer: Layer,
    /// The failed layer's `status`.
    pub status: Status,
    /// The HTTP status the document came with, when known. The gateway
    /// answers a failed sign-in with 401 and an XML body.
    pub http_status: Option<u16>,
    /// The error items, in document order.
    pub errors: heapless::Vec<ErrorDetail, MAX_ERRORS>,
    /// Error items beyond [`MAX_ERRORS`] that were counted but not kept.
    pub omitted: usize,
}

impl GatewayError {
    /// Whether any item is an XML gateway error (`GW-…`).
    pub fn is_gateway_error(&self) -> bool {
        self.errors.iter().any(ErrorDetail::is_gateway_error)
    }

    /// Whether any item has this `errorno`.
    pub fn has_errorno(&self, errorno: &str) -> bool {
        self.errors.iter().any(|e| e.errorno == errorno)
    }
}

impl fmt::Display for GatewayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gateway {} {}",
            self.layer,
            match self.status {
                Status::Aborted => "aborted",
                _ => "failed",
            }
        )?;
        if let Some(status) = self.http_status {
            write!(f, " (HTTP {status})")?;
        }
        if self.errors.is_empty() {
            f.write_str(" with no error details")?;
        }
        for (i, error) in self.errors.iter().enumerate() {
            let separator = if i == 0 { ": " } else { "; " };
            write!(f, "{separator}{error}")?;
        }
        if self.omitted > 0 {
            write!(f, "; and {} more errors not kept", self.omitted)?;
        }
        Ok(())
    }
}

impl core::error::Error for GatewayError {}
