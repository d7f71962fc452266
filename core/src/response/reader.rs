//! One pass over the response document with `xmlparser`, without recursion.
//!
//! The reader keeps a stack of open element names (at most
//! [`MAX_DEPTH`](super::MAX_DEPTH)) and, when an element closes, matches
//! the stack against the known paths. Known leaf values are kept as
//! borrowed [`XmlText`] after their references are checked; unknown
//! elements are skipped.

use super::error::{ErrorRef, Layer, ParseError, ParseErrorKind};
use super::{AuthenticationBlock, MAX_DEPTH, Response, ResultBlock};
use crate::xml::text::XmlText;
use xmlparser::{ElementEnd, Token, Tokenizer};

struct Open {
    start: usize,
    content_start: usize,
    has_child: bool,
}

/// Reads `body` into a [`Response`].
pub(super) fn read(body: &[u8]) -> Result<Response<'_>, ParseError> {
    let text = core::str::from_utf8(body).map_err(|e| ParseError {
        kind: ParseErrorKind::InvalidUtf8,
        offset: e.valid_up_to(),
    })?;
    // Tolerate a byte-order mark and whitespace before the declaration; the
    // tokenizer expects the declaration first. Offsets stay relative to
    // the whole body.
    let after_bom = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let trimmed = after_bom.trim_start_matches([' ', '\t', '\r', '\n']);
    let base = text.len() - trimmed.len();

    let mut reader = Reader {
        text,
        base,
        stack: heapless::Vec::new(),
        path: heapless::Vec::new(),
        response: Response::default(),
        root_seen: false,
        root_closed: false,
    };
    for token in Tokenizer::from(trimmed) {
        let token = token.map_err(|e| ParseError {
            kind: ParseErrorKind::Syntax,
            offset: base + byte_offset(trimmed, e.pos().row, e.pos().col),
        })?;
        reader.token(token)?;
    }
    if !reader.stack.is_empty() {
        return Err(reader.error(ParseErrorKind::UnexpectedEnd, text.len()));
    }
    if !reader.root_seen {
        return Err(reader.error(ParseErrorKind::Empty, text.len()));
    }
    Ok(reader.response)
}

/// Converts the tokenizer's 1-based row and column (in characters) to a
/// byte offset.
fn byte_offset(text: &str, row: u32, col: u32) -> usize {
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i + 1 == row as usize {
            let col = (col as usize).saturating_sub(1);
            return offset + line.char_indices().nth(col).map_or(line.len(), |(i, _)| i);
        }
        offset += line.len();
    }
    text.len()
}

struct Reader<'a> {
    text: &'a str,
    base: usize,
    stack: heapless::Vec<Open, MAX_DEPTH>,
    /// The names of the open elements, in step with `stack`.
    path: heapless::Vec<&'a str, MAX_DEPTH>,
    response: Response<'a>,
    root_seen: bool,
    root_closed: bool,
}

impl<'a> Reader<'a> {
    fn error(&self, kind: ParseErrorKind, offset: usize) -> ParseError {
        ParseError { kind, offset }
    }

    fn token(&mut self, token: Token<'a>) -> Result<(), ParseError> {
        match token {
            Token::ElementStart { local, span, .. } => {
                self.element_start(local.as_str(), self.base + span.start())
            }
            Token::ElementEnd { end, span } => {
                let start = self.base + span.start();
                let end_offset = self.base + span.end();
                match end {
                    ElementEnd::Open => {
                        if let Some(top) = self.stack.last_mut() {
                            top.content_start = end_offset;
                        }
                        Ok(())
                    }
                    ElementEnd::Empty => self.element_close(None, start, end_offset, end_offset),
                    ElementEnd::Close(_, local) => {
                        self.element_close(Some(local.as_str()), start, start, end_offset)
                    }
                }
            }
            // Declarations, comments, processing instructions, DTDs,
            // attributes and text between elements carry nothing this
            // reader needs; text inside known leaves is sliced on close.
            _ => Ok(()),
        }
    }

    fn element_start(&mut self, name: &'a str, offset: usize) -> Result<(), ParseError> {
        if self.root_closed {
            return Err(self.error(ParseErrorKind::Syntax, offset));
        }
        if !self.root_seen {
            if name != "response" {
                return Err(self.error(ParseErrorKind::NotAResponse, offset));
            }
            self.root_seen = true;
        }
        if let Some(parent) = self.stack.last_mut() {
            parent.has_child = true;
        }
        let open = Open {
            start: offset,
            content_start: offset,
            has_child: false,
        };
        if self.stack.push(open).is_err() || self.path.push(name).is_err() {
            return Err(self.error(ParseErrorKind::TooDeep, offset));
        }

        let path = self.path.as_slice();
        match path {
            ["response", "operation", "authentication"] => {
                if self.response.authentication.is_some() {
                    let kind = ParseErrorKind::Duplicate {
                        field: "authentication",
                    };
                    return Err(self.error(kind, offset));
                }
                self.response.authentication = Some(AuthenticationBlock::default());
            }
            ["response", "operation", "result"] => {
                if self.response.result.is_some() {
                    return Err(self.error(ParseErrorKind::MultipleResults, offset));
                }
                self.response.result = Some(ResultBlock::default());
            }
            _ => {
                if let Some(layer) = error_item_layer(path) {
                    self.response.push_error(layer, ErrorRef::default());
                }
            }
        }
        Ok(())
    }

    fn element_close(
        &mut self,
        name: Option<&str>,
        tag_start: usize,
        content_end: usize,
        end: usize,
    ) -> Result<(), ParseError> {
        let Some(top) = self.stack.last() else {
            return Err(self.error(ParseErrorKind::MismatchedTag, tag_start));
        };
        if name.is_some_and(|name| self.path.last() != Some(&name)) {
            return Err(self.error(ParseErrorKind::MismatchedTag, tag_start));
        }
        let (start, content_start, has_child) = (top.start, top.content_start, top.has_child);
        // A self-closing element (`name` is None) has no content.
        let raw = match name {
            Some(_) => self.text.get(content_start..content_end).unwrap_or(""),
            None => "",
        };

        let path = self.path.as_slice();
        if let ["response", "operation", "result", "data"] = path {
            if let Some(result) = self.response.result.as_mut() {
                result.data = self.text.get(start..end);
            }
        } else if let Some((field, slot)) = self.response.slot(path) {
            if has_child {
                return Err(self.error(ParseErrorKind::UnexpectedChild { field }, start));
            }
            if slot.is_some() {
                return Err(self.error(ParseErrorKind::Duplicate { field }, start));
            }
            match XmlText::validate(raw) {
                Ok(text) => *slot = Some(text),
                Err((error, at)) => {
                    let kind = ParseErrorKind::InvalidText { field, error };
                    return Err(self.error(kind, content_start + at));
                }
            }
        }

        self.stack.pop();
        self.path.pop();
        if self.stack.is_empty() {
            self.root_closed = true;
        }
        Ok(())
    }
}

/// Returns the layer that an `errormessage/error` element at `path`
/// belongs to.
pub(super) fn error_item_layer(path: &[&str]) -> Option<Layer> {
    match path {
        ["response", "errormessage", "error"] => Some(Layer::Control),
        ["response", "operation", "errormessage", "error"]
        | [
            "response",
            "operation",
            "authentication",
            "errormessage",
            "error",
        ] => Some(Layer::Authentication),
        ["response", "operation", "result", "errormessage", "error"] => Some(Layer::Result),
        _ => None,
    }
}
