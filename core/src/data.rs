//! Reading values out of a function's `data` element.
//!
//! [`ResultBlock::data`](crate::response::ResultBlock::data) is the whole
//! `data` element as it appears in the response body. [`Data::parse`]
//! checks it once (well-formed, every reference and character valid), and
//! the readers after that borrow from it: [`Element`] walks child elements,
//! and values come back as [`XmlText`], which decodes entities once, when it
//! is compared or copied. Nothing is copied and nothing needs a buffer.
//!
//! ```
//! use intacct_core::data::Data;
//!
//! let data = Data::parse(
//!     r#"<data listtype="location" count="2" totalcount="2" numremaining="0">
//!          <location><LOCATIONID>EAST</LOCATIONID><NAME>East &amp; Co</NAME></location>
//!          <location><LOCATIONID>WEST</LOCATIONID><NAME>West</NAME></location>
//!        </data>"#,
//! )?;
//! assert_eq!(data.count(), Ok(Some(2)));
//! let mut names = data.records().filter_map(|record| record.field("NAME"));
//! assert!(names.next().is_some_and(|name| name.eq_str("East & Co")));
//! # Ok::<(), intacct_core::response::ParseError>(())
//! ```

use crate::response::{MAX_DEPTH, ParseError, ParseErrorKind};
use crate::xml::escape::is_xml_char;
use crate::xml::text::{TextError, XmlText};
use core::fmt;
use xmlparser::{ElementEnd, Token, Tokenizer};

/// Field name that [`ParseError`]s from [`Data::parse`] carry.
const DATA_FIELD: &str = "data";

/// Maximum decoded length of a number read by [`Element::field_u64`] and
/// the pagination helpers, surrounding whitespace included.
const NUMBER_CAPACITY: usize = 32;

/// A value that should be a whole number is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct InvalidNumber {
    /// The element or attribute, as the caller named it.
    pub field: &'static str,
}

impl fmt::Display for InvalidNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is not a whole number between 0 and {}",
            self.field,
            u64::MAX
        )
    }
}

impl core::error::Error for InvalidNumber {}

/// A checked `data` element, borrowed from the response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Data<'a> {
    root: Element<'a>,
}

impl<'a> Data<'a> {
    /// Checks one XML element, such as the one
    /// [`ResultBlock::data`](crate::response::ResultBlock::data) returns:
    /// well-formed, nested at most [`MAX_DEPTH`] deep, with valid
    /// references and characters in every text and attribute value.
    ///
    /// Offsets in the error count from the start of `element`.
    pub fn parse(element: &'a str) -> Result<Self, ParseError> {
        check_element(element)?;
        Ok(Self {
            root: Element { source: element },
        })
    }

    /// Returns the `data` element itself.
    pub fn element(&self) -> Element<'a> {
        self.root
    }

    /// Returns the child elements of `data`, one per record for the read
    /// functions.
    pub fn records(&self) -> Children<'a> {
        self.root.children()
    }

    /// Returns an attribute of the `data` element.
    pub fn attribute(&self, name: &str) -> Option<XmlText<'a>> {
        self.root.attribute(name)
    }

    /// `count`: records in this response. `Ok(None)` when absent.
    pub fn count(&self) -> Result<Option<u64>, InvalidNumber> {
        self.root.attribute_u64("count")
    }

    /// `totalcount`: records that match the query in all.
    pub fn total_count(&self) -> Result<Option<u64>, InvalidNumber> {
        self.root.attribute_u64("totalcount")
    }

    /// `numremaining`: matching records not yet returned.
    pub fn num_remaining(&self) -> Result<Option<u64>, InvalidNumber> {
        self.root.attribute_u64("numremaining")
    }

    /// `resultId`: the id that fetches the next page, when the gateway
    /// kept one. `None` when absent or empty.
    pub fn result_id(&self) -> Option<XmlText<'a>> {
        self.root
            .attribute("resultId")
            .filter(|value| !value.is_empty())
    }

    /// Returns the element's raw text, tags included.
    pub fn as_str(&self) -> &'a str {
        self.root.source
    }
}

/// One element inside a checked [`Data`], borrowed from the body.
///
/// Every method reads the element's text again; none allocates, and none
/// can fail on structure, because [`Data::parse`] checked it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Element<'a> {
    /// From the `<` of the start tag to the `>` of the end tag.
    source: &'a str,
}

impl<'a> Element<'a> {
    /// Returns the element's name, with its namespace prefix if it has one.
    pub fn name(&self) -> &'a str {
        for token in Tokenizer::from(self.source) {
            if let Ok(Token::ElementStart { prefix, local, .. }) = token {
                return qualified_name(self.source, prefix, local);
            }
        }
        ""
    }

    /// Returns the element's raw text, tags included.
    pub fn as_str(&self) -> &'a str {
        self.source
    }

    /// Returns the value of attribute `name` (with its prefix, if any), not
    /// yet decoded.
    pub fn attribute(&self, name: &str) -> Option<XmlText<'a>> {
        for token in Tokenizer::from(self.source) {
            match token {
                Ok(Token::Attribute {
                    prefix,
                    local,
                    value,
                    ..
                }) => {
                    if qualified_name(self.source, prefix, local) == name {
                        return XmlText::validate(value.as_str()).ok();
                    }
                }
                Ok(Token::ElementEnd { .. }) | Err(_) => return None,
                Ok(_) => {}
            }
        }
        None
    }

    /// Reads an attribute as a whole number. Returns `Ok(None)` when it is
    /// absent.
    pub fn attribute_u64(&self, name: &'static str) -> Result<Option<u64>, InvalidNumber> {
        self.attribute(name)
            .map(|value| parse_u64(value, name))
            .transpose()
    }

    /// Returns the child elements, in document order.
    pub fn children(&self) -> Children<'a> {
        Children {
            source: self.source,
            tokens: Tokenizer::from(self.source),
            depth: 0,
            child_start: 0,
        }
    }

    /// Returns the first child element named `name`.
    pub fn child(&self, name: &str) -> Option<Element<'a>> {
        self.children().find(|child| child.name() == name)
    }

    /// Returns the element's text content, when it has no child elements.
    /// Comments and CDATA sections are allowed in it.
    pub fn text(&self) -> Option<XmlText<'a>> {
        let mut depth = 0usize;
        let mut content_start = None;
        for token in Tokenizer::from(self.source) {
            match token {
                Ok(Token::ElementStart { .. }) => {
                    depth += 1;
                    if depth > 1 {
                        return None;
                    }
                }
                Ok(Token::ElementEnd {
                    end: ElementEnd::Open,
                    span,
                }) => content_start = Some(span.end()),
                Ok(Token::ElementEnd {
                    end: ElementEnd::Empty,
                    ..
                }) => return XmlText::validate("").ok(),
                Ok(Token::ElementEnd {
                    end: ElementEnd::Close(..),
                    span,
                }) => {
                    let raw = self.source.get(content_start?..span.start())?;
                    return XmlText::validate(raw).ok();
                }
                Err(_) => return None,
                Ok(_) => {}
            }
        }
        None
    }

    /// Returns the text of the first child element named `name`, a record's
    /// field. Returns `None` when there is no such child or it contains
    /// elements.
    pub fn field(&self, name: &str) -> Option<XmlText<'a>> {
        self.child(name)?.text()
    }

    /// Reads a field as a whole number, surrounding whitespace allowed.
    /// Returns `Ok(None)` when the field is absent.
    pub fn field_u64(&self, name: &'static str) -> Result<Option<u64>, InvalidNumber> {
        match self.child(name) {
            None => Ok(None),
            Some(child) => {
                let text = child.text().ok_or(InvalidNumber { field: name })?;
                parse_u64(text, name).map(Some)
            }
        }
    }
}

impl fmt::Debug for Element<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Element")
            .field("name", &self.name())
            .field("len", &self.source.len())
            .finish()
    }
}

/// Iterator over the child elements of an [`Element`].
#[derive(Clone)]
pub struct Children<'a> {
    source: &'a str,
    tokens: Tokenizer<'a>,
    /// 1 inside the parent, 2 inside a child, and so on.
    depth: usize,
    child_start: usize,
}

impl fmt::Debug for Children<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Children")
            .field("depth", &self.depth)
            .finish_non_exhaustive()
    }
}

impl<'a> Iterator for Children<'a> {
    type Item = Element<'a>;

    fn next(&mut self) -> Option<Element<'a>> {
        for token in self.tokens.by_ref() {
            let end = match token {
                Ok(Token::ElementStart { span, .. }) => {
                    self.depth += 1;
                    if self.depth == 2 {
                        self.child_start = span.start();
                    }
                    continue;
                }
                Ok(Token::ElementEnd {
                    end: ElementEnd::Empty | ElementEnd::Close(..),
                    span,
                }) => span.end(),
                Ok(_) => continue,
                Err(_) => return None,
            };
            let closed_child = self.depth == 2;
            self.depth = self.depth.saturating_sub(1);
            if closed_child {
                let source = self.source.get(self.child_start..end)?;
                return Some(Element { source });
            }
        }
        None
    }
}

/// Returns the name as written in the source: `prefix:local` or `local`.
fn qualified_name<'a>(
    source: &'a str,
    prefix: xmlparser::StrSpan<'a>,
    local: xmlparser::StrSpan<'a>,
) -> &'a str {
    if prefix.is_empty() {
        return local.as_str();
    }
    source
        .get(prefix.start()..local.end())
        .unwrap_or(local.as_str())
}

fn parse_u64(text: XmlText<'_>, field: &'static str) -> Result<u64, InvalidNumber> {
    let invalid = InvalidNumber { field };
    let decoded: heapless::String<NUMBER_CAPACITY> = text.decode(field).map_err(|_| invalid)?;
    decoded.trim().parse().map_err(|_| invalid)
}

/// Checks that `element` is one well-formed element with valid text.
fn check_element(element: &str) -> Result<(), ParseError> {
    let error = |kind, offset| ParseError { kind, offset };
    let invalid_text = |error, offset| ParseError {
        kind: ParseErrorKind::InvalidText {
            field: DATA_FIELD,
            error,
        },
        offset,
    };

    let mut open: heapless::Vec<&str, MAX_DEPTH> = heapless::Vec::new();
    let mut root_seen = false;
    for token in Tokenizer::from(element) {
        let token = token.map_err(|e| {
            let offset = byte_offset(element, e.pos().row, e.pos().col);
            error(ParseErrorKind::Syntax, offset)
        })?;
        match token {
            Token::ElementStart {
                prefix,
                local,
                span,
            } => {
                if root_seen && open.is_empty() {
                    return Err(error(ParseErrorKind::Syntax, span.start()));
                }
                root_seen = true;
                let name = qualified_name(element, prefix, local);
                open.push(name)
                    .map_err(|_| error(ParseErrorKind::TooDeep, span.start()))?;
            }
            Token::Attribute { value, .. } => {
                XmlText::validate(value.as_str())
                    .map_err(|(kind, at)| invalid_text(kind, value.start() + at))?;
            }
            Token::ElementEnd { end, span } => match end {
                ElementEnd::Open => {}
                ElementEnd::Empty => {
                    open.pop();
                }
                ElementEnd::Close(prefix, local) => {
                    let name = qualified_name(element, prefix, local);
                    if open.pop() != Some(name) {
                        return Err(error(ParseErrorKind::MismatchedTag, span.start()));
                    }
                }
            },
            Token::Text { text } => {
                if open.is_empty() {
                    if !text.as_str().trim().is_empty() {
                        return Err(error(ParseErrorKind::Syntax, text.start()));
                    }
                    continue;
                }
                XmlText::validate(text.as_str())
                    .map_err(|(kind, at)| invalid_text(kind, text.start() + at))?;
            }
            Token::Cdata { text, .. } => {
                if let Some((at, _)) = text.as_str().char_indices().find(|&(_, c)| !is_xml_char(c))
                {
                    return Err(invalid_text(TextError::InvalidChar, text.start() + at));
                }
            }
            // Declarations, comments, processing instructions and DTDs carry
            // no values.
            _ => {}
        }
    }
    if !open.is_empty() {
        return Err(error(ParseErrorKind::UnexpectedEnd, element.len()));
    }
    if !root_seen {
        return Err(error(ParseErrorKind::Empty, element.len()));
    }
    Ok(())
}

/// Converts the tokenizer's 1-based row and column (in characters) to a
/// byte offset.
fn byte_offset(text: &str, row: u32, col: u32) -> usize {
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        if index + 1 == row as usize {
            let col = (col as usize).saturating_sub(1);
            return offset + line.char_indices().nth(col).map_or(line.len(), |(i, _)| i);
        }
        offset += line.len();
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;
    use std::vec::Vec;

    const LOCATIONS: &str = r#"<data listtype="location" count="2" totalcount="5" numremaining="3" resultId="7765623x">
        <location>
            <LOCATIONID>EAST</LOCATIONID>
            <NAME>East &amp; Co &#x1F680;</NAME>
            <EMPTY/>
            <NOTE><![CDATA[a<b]]><!-- c --></NOTE>
        </location>
        <location><LOCATIONID>WEST</LOCATIONID><NAME>West</NAME><ADDRESS><CITY>Oslo</CITY></ADDRESS></location>
    </data>"#;

    #[test]
    fn data_reads_pagination_attributes() {
        let data = Data::parse(LOCATIONS).unwrap();
        assert_eq!(data.count(), Ok(Some(2)));
        assert_eq!(data.total_count(), Ok(Some(5)));
        assert_eq!(data.num_remaining(), Ok(Some(3)));
        assert!(data.result_id().unwrap().eq_str("7765623x"));
        assert!(data.attribute("listtype").unwrap().eq_str("location"));
        assert_eq!(data.attribute("missing"), None);
        assert_eq!(data.element().name(), "data");
    }

    #[test]
    fn data_records_and_fields_decode_once() {
        let data = Data::parse(LOCATIONS).unwrap();
        let records: Vec<Element<'_>> = data.records().collect();
        assert_eq!(records.len(), 2);
        let east = records[0];
        assert_eq!(east.name(), "location");
        assert_eq!(east.field("LOCATIONID").unwrap().to_string(), "EAST");
        assert_eq!(
            east.field("NAME").unwrap().to_string(),
            "East & Co \u{1F680}"
        );
        assert_eq!(east.field("NAME").unwrap().raw(), "East &amp; Co &#x1F680;");
        assert!(east.field("EMPTY").unwrap().is_empty());
        assert_eq!(east.field("NOTE").unwrap().to_string(), "a<b");
        assert_eq!(east.field("MISSING"), None);

        let west = records[1];
        assert_eq!(west.field("ADDRESS"), None, "holds elements, not text");
        let city = west.child("ADDRESS").unwrap().field("CITY").unwrap();
        assert!(city.eq_str("Oslo"));
        let names: Vec<&str> = west.children().map(|child| child.name()).collect();
        assert_eq!(names, ["LOCATIONID", "NAME", "ADDRESS"]);
    }

    #[test]
    fn data_numbers_name_the_field() {
        let data = Data::parse(
            "<data count=\"x1\"><r><n> 42 </n><bad>4 2</bad><big>99999999999999999999</big></r></data>",
        )
        .unwrap();
        assert_eq!(data.count(), Err(InvalidNumber { field: "count" }));
        assert_eq!(data.total_count(), Ok(None));
        let record = data.records().next().unwrap();
        assert_eq!(record.field_u64("n"), Ok(Some(42)));
        assert_eq!(record.field_u64("absent"), Ok(None));
        assert_eq!(record.field_u64("bad"), Err(InvalidNumber { field: "bad" }));
        assert_eq!(record.field_u64("big"), Err(InvalidNumber { field: "big" }));
        assert!(
            InvalidNumber { field: "count" }
                .to_string()
                .starts_with("count is not a whole number")
        );
    }

    #[test]
    fn data_empty_element_has_no_records() {
        let data = Data::parse(r#"<data listtype="location" count="0"/>"#).unwrap();
        assert_eq!(data.records().count(), 0);
        assert_eq!(data.count(), Ok(Some(0)));
        assert_eq!(data.result_id(), None);
        assert!(data.element().text().unwrap().is_empty());
    }

    #[test]
    fn data_prefixed_names_match_whole() {
        let data = Data::parse(r#"<data x:a="1"><x:r><x:f>v</x:f></x:r></data>"#).unwrap();
        assert!(data.attribute("x:a").unwrap().eq_str("1"));
        assert_eq!(data.attribute("a"), None);
        let record = data.records().next().unwrap();
        assert_eq!(record.name(), "x:r");
        assert!(record.field("x:f").unwrap().eq_str("v"));
    }

    #[test]
    fn data_rejects_malformed_input() {
        let cases: &[(&str, ParseErrorKind, usize)] = &[
            ("", ParseErrorKind::Empty, 0),
            ("<data><a></b></data>", ParseErrorKind::MismatchedTag, 9),
            ("<data><a>", ParseErrorKind::UnexpectedEnd, 9),
            ("<data/><data/>", ParseErrorKind::Syntax, 7),
            (
                "<data><a>x &nbsp;</a></data>",
                ParseErrorKind::InvalidText {
                    field: "data",
                    error: TextError::UnknownEntity,
                },
                11,
            ),
            (
                "<data a=\"&#1;\"/>",
                ParseErrorKind::InvalidText {
                    field: "data",
                    error: TextError::InvalidChar,
                },
                9,
            ),
        ];
        for &(input, kind, offset) in cases {
            let error = Data::parse(input).unwrap_err();
            assert_eq!(error.kind, kind, "{input:?}");
            assert_eq!(error.offset, offset, "{input:?}");
        }
    }

    #[test]
    fn data_rejects_nesting_beyond_limit() {
        let mut text = std::string::String::new();
        for _ in 0..=MAX_DEPTH {
            text.push_str("<a>");
        }
        for _ in 0..=MAX_DEPTH {
            text.push_str("</a>");
        }
        let error = Data::parse(&text).unwrap_err();
        assert_eq!(error.kind, ParseErrorKind::TooDeep);
        assert_eq!(error.offset, 3 * MAX_DEPTH);
    }
}
