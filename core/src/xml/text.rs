//! Element text borrowed from a response and decoded on use.
//!
//! The reader keeps each value as the raw slice between its start and end
//! tags, after checking every entity and character reference in it. Decoding
//! happens once, when the value is compared or copied into a fixed-capacity
//! string, so the reader itself needs no output buffers.

use core::fmt;

/// A value did not fit its fixed-capacity buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CapacityError {
    /// The field, in the gateway's terms (`sessionid`, `endpoint`, …).
    pub field: &'static str,
    /// The buffer's capacity in bytes.
    pub capacity: usize,
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is longer than its capacity of {} bytes",
            self.field, self.capacity
        )
    }
}

impl core::error::Error for CapacityError {}

/// The failure to decode the text of an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TextError {
    /// `&name;` where `name` is not one of the five predefined entities.
    UnknownEntity,
    /// `&` without a terminating `;`, or an empty reference.
    UnterminatedReference,
    /// `&#…;` or `&#x…;` with a malformed number or one out of range.
    InvalidCharReference,
    /// A character (literal or referenced) outside the XML 1.0 set.
    InvalidChar,
    /// Markup other than CDATA or a comment inside a text value.
    UnexpectedMarkup,
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownEntity => "unknown entity reference",
            Self::UnterminatedReference => "reference without a terminating ';'",
            Self::InvalidCharReference => "invalid character reference",
            Self::InvalidChar => "character not allowed in XML 1.0",
            Self::UnexpectedMarkup => "unexpected markup inside a text value",
        })
    }
}

/// The raw content of a text-only element: character data, references,
/// CDATA sections and comments, not yet decoded.
///
/// Values are built by the response reader, which has already checked the
/// content with [`XmlText::validate`]; decoding them cannot fail.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct XmlText<'a> {
    raw: &'a str,
}

impl<'a> XmlText<'a> {
    /// Checks `raw` and wraps it; on failure returns the error and the byte
    /// offset within `raw` where it starts.
    pub fn validate(raw: &'a str) -> Result<Self, (TextError, usize)> {
        let mut decoder = Decoder {
            rest: raw,
            in_cdata: false,
        };
        loop {
            // Runs of plain ASCII text need no decoding; skip them at once.
            if !decoder.in_cdata {
                let plain = decoder
                    .rest
                    .bytes()
                    .take_while(|&b| is_plain_ascii(b))
                    .count();
                decoder.rest = decoder.rest.get(plain..).unwrap_or_default();
            }
            let offset = raw.len() - decoder.rest.len();
            match decoder.next_checked() {
                None => return Ok(Self { raw }),
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err((error, offset)),
            }
        }
    }

    /// Returns the raw, undecoded content.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// Returns whether the decoded value is empty (`<locationid/>` or
    /// `<locationid></locationid>`).
    pub fn is_empty(&self) -> bool {
        self.chars().next().is_none()
    }

    /// Returns the decoded characters.
    pub fn chars(&self) -> Chars<'a> {
        Chars {
            decoder: Decoder {
                rest: self.raw,
                in_cdata: false,
            },
        }
    }

    /// Returns whether the decoded value equals `other`.
    pub fn eq_str(&self, other: &str) -> bool {
        self.chars().eq(other.chars())
    }

    /// Returns the decoded length in bytes of UTF-8.
    pub fn decoded_len(&self) -> usize {
        self.chars().map(char::len_utf8).sum()
    }

    /// Decodes into a fixed-capacity string, failing when it does not fit.
    pub fn decode<const N: usize>(
        &self,
        field: &'static str,
    ) -> Result<heapless::String<N>, CapacityError> {
        let mut out = heapless::String::new();
        for c in self.chars() {
            out.push(c)
                .map_err(|_| CapacityError { field, capacity: N })?;
        }
        Ok(out)
    }

    /// Appends the decoded value to `out`, keeping what fits; returns `true`
    /// when characters were dropped.
    pub fn decode_append<const N: usize>(&self, out: &mut heapless::String<N>) -> bool {
        for c in self.chars() {
            if out.push(c).is_err() {
                return true;
            }
        }
        false
    }

    /// Decodes into a fixed-capacity string, keeping what fits; the flag is
    /// `true` when characters were dropped.
    pub fn decode_truncated<const N: usize>(&self) -> (heapless::String<N>, bool) {
        let mut out = heapless::String::new();
        for c in self.chars() {
            if out.push(c).is_err() {
                return (out, true);
            }
        }
        (out, false)
    }
}

impl fmt::Debug for XmlText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for c in self.chars() {
            fmt::Display::fmt(&c.escape_debug(), f)?;
        }
        f.write_str("\"")
    }
}

impl fmt::Display for XmlText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        for c in self.chars() {
            f.write_char(c)?;
        }
        Ok(())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for XmlText<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.raw)
    }
}

/// Iterator over the decoded characters of an [`XmlText`].
#[derive(Debug, Clone)]
pub struct Chars<'a> {
    decoder: Decoder<'a>,
}

impl Iterator for Chars<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        // Content was validated when the XmlText was built, so an error here
        // cannot occur; the replacement character keeps this path panic-free.
        self.decoder
            .next_checked()
            .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
    }
}

#[derive(Debug, Clone)]
struct Decoder<'a> {
    rest: &'a str,
    in_cdata: bool,
}

impl Decoder<'_> {
    fn next_checked(&mut self) -> Option<Result<char, TextError>> {
        loop {
            // Dispatch on the first byte: most characters are plain text,
            // and only `]` (in CDATA), `<` and `&` start anything else.
            let first = *self.rest.as_bytes().first()?;
            if self.in_cdata {
                if first == b']' {
                    if let Some(after) = self.rest.strip_prefix("]]>") {
                        self.rest = after;
                        self.in_cdata = false;
                        continue;
                    }
                }
                return self.take_literal();
            }
            match first {
                b'<' => {
                    if let Some(after) = self.rest.strip_prefix("<![CDATA[") {
                        self.rest = after;
                        self.in_cdata = true;
                        continue;
                    }
                    if let Some(after) = self.rest.strip_prefix("<!--") {
                        if let Some(end) = after.find("-->") {
                            self.rest = &after[end + 3..];
                            continue;
                        }
                    }
                    self.rest = "";
                    return Some(Err(TextError::UnexpectedMarkup));
                }
                b'&' => {
                    let after = &self.rest[1..];
                    let result = decode_reference(after);
                    self.rest = match after.find(';') {
                        Some(end) => &after[end + 1..],
                        None => "",
                    };
                    return Some(result);
                }
                _ => return self.take_literal(),
            }
        }
    }

    fn take_literal(&mut self) -> Option<Result<char, TextError>> {
        let mut chars = self.rest.chars();
        let c = chars.next()?;
        self.rest = chars.as_str();
        if super::escape::is_xml_char(c) {
            Some(Ok(c))
        } else {
            Some(Err(TextError::InvalidChar))
        }
    }
}

/// Returns whether `byte` is ASCII text that represents itself: allowed by XML and
/// not the start of a reference or markup.
fn is_plain_ascii(byte: u8) -> bool {
    matches!(byte, b'\t' | b'\n' | b'\r' | 0x20..=0x7e) && byte != b'&' && byte != b'<'
}

/// Decodes the reference that starts right after an `&`.
fn decode_reference(after_ampersand: &str) -> Result<char, TextError> {
    let end = after_ampersand
        .find(';')
        .ok_or(TextError::UnterminatedReference)?;
    let name = &after_ampersand[..end];
    if name.is_empty() {
        return Err(TextError::UnterminatedReference);
    }
    let code_point = if let Some(hex) = name.strip_prefix("#x") {
        parse_number(hex, 16)?
    } else if let Some(decimal) = name.strip_prefix('#') {
        parse_number(decimal, 10)?
    } else {
        return match name {
            "lt" => Ok('<'),
            "gt" => Ok('>'),
            "amp" => Ok('&'),
            "apos" => Ok('\''),
            "quot" => Ok('"'),
            _ => Err(TextError::UnknownEntity),
        };
    };
    let c = char::from_u32(code_point).ok_or(TextError::InvalidCharReference)?;
    if super::escape::is_xml_char(c) {
        Ok(c)
    } else {
        Err(TextError::InvalidChar)
    }
}

fn parse_number(digits: &str, radix: u32) -> Result<u32, TextError> {
    if digits.is_empty() || digits.len() > 8 {
        return Err(TextError::InvalidCharReference);
    }
    let mut value: u32 = 0;
    for c in digits.chars() {
        let digit = c.to_digit(radix).ok_or(TextError::InvalidCharReference)?;
        value = value
            .checked_mul(radix)
            .and_then(|v| v.checked_add(digit))
            .ok_or(TextError::InvalidCharReference)?;
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::{String, ToString};

    fn decoded(raw: &str) -> String {
        XmlText::validate(raw).unwrap().to_string()
    }

    #[test]
    fn decode_predefined_entities() {
        assert_eq!(decoded("a&lt;b&gt;c&amp;d&apos;e&quot;"), "a<b>c&d'e\"");
    }

    #[test]
    fn decode_character_references() {
        assert_eq!(decoded("&#65;&#x42;&#x6a;&#x1F680;"), "ABj\u{1F680}");
        // XML spells the hexadecimal form with a lower-case x only.
        assert!(XmlText::validate("&#X43;").is_err());
    }

    #[test]
    fn decode_cdata_and_comments() {
        assert_eq!(decoded("a<![CDATA[<&>]]>b<!-- note -->c"), "a<&>bc");
    }

    #[test]
    fn decode_once_only() {
        assert_eq!(decoded("&amp;lt;"), "&lt;");
    }

    #[test]
    fn reject_invalid_references() {
        let cases: &[(&str, TextError, usize)] = &[
            ("ab&nbsp;", TextError::UnknownEntity, 2),
            ("&amp", TextError::UnterminatedReference, 0),
            ("x&;", TextError::UnterminatedReference, 1),
            ("&#xZZ;", TextError::InvalidCharReference, 0),
            ("&#;", TextError::InvalidCharReference, 0),
            ("&#1;", TextError::InvalidChar, 0),
            ("&#xD800;", TextError::InvalidCharReference, 0),
            ("&#x110000;", TextError::InvalidCharReference, 0),
            ("&#99999999999;", TextError::InvalidCharReference, 0),
            ("a<b", TextError::UnexpectedMarkup, 1),
            ("\u{1}", TextError::InvalidChar, 0),
        ];
        for &(raw, error, offset) in cases {
            assert_eq!(XmlText::validate(raw), Err((error, offset)), "{raw:?}");
        }
    }

    #[test]
    fn decode_into_capacity() {
        let text = XmlText::validate("abc&amp;").unwrap();
        let fits: heapless::String<4> = text.decode("sessionid").unwrap();
        assert_eq!(fits.as_str(), "abc&");
        let err = text.decode::<3>("sessionid").unwrap_err();
        assert_eq!(
            err,
            CapacityError {
                field: "sessionid",
                capacity: 3
            }
        );
        let (kept, truncated) = text.decode_truncated::<3>();
        assert_eq!(kept.as_str(), "abc");
        assert!(truncated);
    }

    #[test]
    fn empty_and_equality() {
        assert!(XmlText::validate("").unwrap().is_empty());
        assert!(XmlText::validate("<![CDATA[]]>").unwrap().is_empty());
        assert!(XmlText::validate("E&#49;").unwrap().eq_str("E1"));
        assert!(!XmlText::validate("E1").unwrap().eq_str("E12"));
    }
}
