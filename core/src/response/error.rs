//! Errors from reading a response: malformed documents, and failures the
//! gateway reports at its three layers.

use crate::xml::text::{TextError, XmlText};
use core::fmt;

/// Maximum number of `errormessage/error` items a [`GatewayError`] keeps.
/// Further items are counted in [`GatewayError::omitted`].
pub const MAX_ERRORS: usize = 4;

/// Capacity of each `errorno` in bytes. Gateway numbers look like
/// `XL03000006`, `BL34000061` or `GW-0011`; a longer one is cut and flagged.
pub const ERRORNO_CAPACITY: usize = 24;

/// Bytes shared by the texts (`description`, `description2`, `correction`)
/// of all the items a [`GatewayError`] keeps. Texts that no longer fit are
/// cut at a character boundary and flagged in [`ErrorDetail::truncated`].
/// Sharing one pool keeps the error small enough to return through several
/// stack frames on a microcontroller.
pub const ERROR_TEXT_CAPACITY: usize = 640;

/// The failure to read a response document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ParseError {
    /// The kind of failure.
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
        /// The problem in the text.
        error: TextError,
    },
    /// An element that must contain only text contains child elements.
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
    /// More than one `result`: a request contains one function, so one result
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

/// One error item of a [`GatewayError`], borrowed from it. Missing and
/// empty elements both give empty strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ErrorDetail<'a> {
    /// `errorno`, such as `XL03000006` or `GW-0011`.
    pub errorno: &'a str,
    /// `description`.
    pub description: &'a str,
    /// `description2`, usually the most specific text.
    pub description2: &'a str,
    /// `correction`: what the gateway suggests doing.
    pub correction: &'a str,
    /// Whether any of the four values was cut to fit its capacity.
    pub truncated: bool,
}

impl ErrorDetail<'_> {
    /// Returns whether this is an error of the XML gateway itself (`GW-…`),
    /// such as a request it could not parse, rather than of a layer behind
    /// it.
    pub fn is_gateway_error(&self) -> bool {
        self.errorno.starts_with("GW-")
    }
}

impl fmt::Display for ErrorDetail<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errorno = if self.errorno.is_empty() {
            "(no errorno)"
        } else {
            self.errorno
        };
        f.write_str(errorno)?;
        let mut separator = ": ";
        for text in [self.description, self.description2] {
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

/// The location of an item's texts in the shared pool: `(start, len)` in bytes
/// for `description`, `description2` and `correction`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
struct StoredItem {
    errorno: heapless::String<ERRORNO_CAPACITY>,
    texts: [(u16, u16); 3],
    truncated: bool,
}

/// A failure the gateway reported, with every error item it sent (up to
/// [`MAX_ERRORS`], and their texts up to [`ERROR_TEXT_CAPACITY`] bytes in
/// all).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GatewayError {
    /// The layer that failed.
    pub layer: Layer,
    /// The failed layer's `status`.
    pub status: Status,
    /// The HTTP status the document came with, when known. The gateway
    /// rejects a failed sign-in with 401 and an XML body.
    pub http_status: Option<u16>,
    /// Error items beyond [`MAX_ERRORS`] that were counted but not kept.
    pub omitted: usize,
    items: heapless::Vec<StoredItem, MAX_ERRORS>,
    text: heapless::String<ERROR_TEXT_CAPACITY>,
}

impl GatewayError {
    /// Creates an error with no items.
    pub fn new(layer: Layer, status: Status, http_status: Option<u16>) -> Self {
        Self {
            layer,
            status,
            http_status,
            omitted: 0,
            items: heapless::Vec::new(),
            text: heapless::String::new(),
        }
    }

    /// Copies an item out of a response body, or counts it in
    /// [`GatewayError::omitted`] when [`MAX_ERRORS`] are kept already.
    pub fn push(&mut self, item: &ErrorRef<'_>) {
        if self.items.is_full() {
            self.omitted += 1;
            return;
        }
        let (errorno, mut truncated) = item.errorno.unwrap_or_default().decode_truncated();
        let mut texts = [(0u16, 0u16); 3];
        for (span, value) in
            texts
                .iter_mut()
                .zip([item.description, item.description2, item.correction])
        {
            let start = self.text.len();
            truncated |= value.unwrap_or_default().decode_append(&mut self.text);
            // The pool is far below 64 KiB, so both values fit in u16.
            *span = (start as u16, (self.text.len() - start) as u16);
        }
        let _ = self.items.push(StoredItem {
            errorno,
            texts,
            truncated,
        });
    }

    /// Returns the kept error items, in document order.
    pub fn errors(&self) -> impl ExactSizeIterator<Item = ErrorDetail<'_>> + '_ {
        self.items.iter().map(|item| self.detail(item))
    }

    /// Returns the kept error item at `index`, in document order.
    pub fn error(&self, index: usize) -> Option<ErrorDetail<'_>> {
        self.items.get(index).map(|item| self.detail(item))
    }

    /// Returns the number of kept error items.
    pub fn error_count(&self) -> usize {
        self.items.len()
    }

    /// Returns whether any item is an XML gateway error (`GW-…`).
    pub fn is_gateway_error(&self) -> bool {
        self.errors().any(|e| e.is_gateway_error())
    }

    /// Returns whether any item has this `errorno`.
    pub fn has_errorno(&self, errorno: &str) -> bool {
        self.errors().any(|e| e.errorno == errorno)
    }

    fn detail<'a>(&'a self, item: &'a StoredItem) -> ErrorDetail<'a> {
        let text = |(start, len): (u16, u16)| {
            let start = usize::from(start);
            self.text
                .get(start..start + usize::from(len))
                .unwrap_or_default()
        };
        ErrorDetail {
            errorno: &item.errorno,
            description: text(item.texts[0]),
            description2: text(item.texts[1]),
            correction: text(item.texts[2]),
            truncated: item.truncated,
        }
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
        if self.items.is_empty() {
            f.write_str(" with no error details")?;
        }
        for (i, error) in self.errors().enumerate() {
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
