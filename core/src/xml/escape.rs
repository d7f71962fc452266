//! Escaping of text and attribute values, and the byte sinks they write to.
//!
//! The same writing code runs twice for a request: once into a [`Counter`]
//! to learn the exact length, once into the real output. That keeps the
//! `Content-Length` and the body in agreement without buffering.

/// A destination for serialized bytes.
pub trait Sink {
    /// The failure to write bytes.
    type Error;

    /// Appends `bytes` in full, or fails.
    fn put(&mut self, bytes: &[u8]) -> Result<(), Self::Error>;

    /// Appends a string in full, or fails.
    fn put_str(&mut self, s: &str) -> Result<(), Self::Error> {
        self.put(s.as_bytes())
    }
}

/// A sink that only counts bytes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// Bytes counted so far.
    pub len: usize,
}

impl Sink for Counter {
    type Error = core::convert::Infallible;

    fn put(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        self.len = self.len.saturating_add(bytes.len());
        Ok(())
    }
}

/// A sink over a caller's byte slice.
#[derive(Debug)]
pub struct SliceSink<'a> {
    buf: &'a mut [u8],
    len: usize,
}

/// The output buffer was too small; nothing past `capacity` was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BufferTooSmall {
    /// Bytes the whole output needs.
    pub needed: usize,
    /// Bytes the buffer has.
    pub capacity: usize,
}

impl core::fmt::Display for BufferTooSmall {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "output buffer too small: {} bytes needed, {} available",
            self.needed, self.capacity
        )
    }
}

impl core::error::Error for BufferTooSmall {}

impl<'a> SliceSink<'a> {
    /// Wraps `buf`; writing starts at its first byte.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Returns whether nothing has been written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Sink for SliceSink<'_> {
    type Error = BufferTooSmall;

    fn put(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        let capacity = self.buf.len();
        let end = self.len.saturating_add(bytes.len());
        let Some(dest) = self.buf.get_mut(self.len..end) else {
            return Err(BufferTooSmall {
                needed: end,
                capacity,
            });
        };
        dest.copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }
}

/// A sink over an [`embedded_io::Write`] stream.
#[derive(Debug)]
pub struct IoSink<'a, W> {
    writer: &'a mut W,
}

impl<'a, W: embedded_io::Write> IoSink<'a, W> {
    /// Wraps `writer`.
    pub fn new(writer: &'a mut W) -> Self {
        Self { writer }
    }
}

impl<W: embedded_io::Write> Sink for IoSink<'_, W> {
    type Error = W::Error;

    fn put(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        self.writer.write_all(bytes)
    }
}

/// A character that XML 1.0 cannot carry, found in a named value.
///
/// The error contains the field name and the position, never the value, so it
/// is safe to log for secrets too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct InvalidChar {
    /// The field that contains the character, in the gateway's terms.
    pub field: &'static str,
    /// Byte offset of the character within the value.
    pub offset: usize,
    /// The character's Unicode scalar value.
    pub code_point: u32,
}

impl core::fmt::Display for InvalidChar {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} contains U+{:04X} at byte {}, which XML 1.0 cannot represent; remove it",
            self.field, self.code_point, self.offset
        )
    }
}

impl core::error::Error for InvalidChar {}

/// Returns whether XML 1.0 allows `c` in a document (the `Char` production).
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Checks that every character of `value` is allowed by XML 1.0.
pub fn check_chars(field: &'static str, value: &str) -> Result<(), InvalidChar> {
    match value.char_indices().find(|&(_, c)| !is_xml_char(c)) {
        None => Ok(()),
        Some((offset, c)) => Err(InvalidChar {
            field,
            offset,
            code_point: c as u32,
        }),
    }
}

/// Writes `value` escaped for element text or a double-quoted attribute.
///
/// The five predefined entities are escaped everywhere. CR, LF and tab are
/// written as character references so that no XML processor normalizes
/// them away: a value reaches the gateway exactly as the caller gave it.
/// The caller must have checked `value` with [`check_chars`].
pub fn write_escaped<S: Sink>(sink: &mut S, value: &str) -> Result<(), S::Error> {
    let bytes = value.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let replacement = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&apos;",
            b'\r' => "&#13;",
            b'\n' => "&#10;",
            b'\t' => "&#9;",
            _ => continue,
        };
        sink.put(&bytes[start..i])?;
        sink.put_str(replacement)?;
        start = i + 1;
    }
    sink.put(&bytes[start..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    fn escaped(value: &str) -> String {
        let mut buf = [0u8; 256];
        let mut sink = SliceSink::new(&mut buf);
        write_escaped(&mut sink, value).unwrap();
        let len = sink.len();
        String::from_utf8(buf[..len].to_vec()).unwrap()
    }

    #[test]
    fn escape_predefined_entities() {
        assert_eq!(escaped("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
    }

    #[test]
    fn escape_keeps_pipes_and_unicode() {
        assert_eq!(escaped("CONSOLE|CLIENT|ENTITY"), "CONSOLE|CLIENT|ENTITY");
        assert_eq!(escaped("Zürich 東京 🚀"), "Zürich 東京 🚀");
    }

    #[test]
    fn escape_whitespace_controls_as_references() {
        assert_eq!(escaped("a\r\nb\tc"), "a&#13;&#10;b&#9;c");
    }

    #[test]
    fn counter_matches_written_length() {
        let value = "x&y<z>\"'\r\n\t plain";
        let mut counter = Counter::default();
        write_escaped(&mut counter, value).unwrap();
        assert_eq!(counter.len, escaped(value).len());
    }

    #[test]
    fn check_chars_rejects_control_characters() {
        let err = check_chars("password", "ab\u{1}c").unwrap_err();
        assert_eq!(err.field, "password");
        assert_eq!(err.offset, 2);
        assert_eq!(err.code_point, 1);
        assert!(check_chars("userid", "\u{FFFE}").is_err());
        assert!(check_chars("userid", "\u{FFFF}").is_err());
        assert!(check_chars("userid", "tab\there\r\n").is_ok());
        assert!(check_chars("userid", "\u{10FFFF}").is_ok());
    }

    #[test]
    fn slice_sink_reports_needed_bytes() {
        let mut buf = [0u8; 4];
        let mut sink = SliceSink::new(&mut buf);
        sink.put(b"abc").unwrap();
        let err = sink.put(b"de").unwrap_err();
        assert_eq!(
            err,
            BufferTooSmall {
                needed: 5,
                capacity: 4
            }
        );
        assert_eq!(sink.len(), 3);
    }

    #[test]
    fn invalid_char_display_hides_value() {
        let err = check_chars("password", "secret\u{0}").unwrap_err();
        let text = std::format!("{err}");
        assert!(text.contains("password"));
        assert!(text.contains("U+0000"));
        assert!(!text.contains("secret"));
    }
}
