//! A pretty-printing XML writer for responses.

/// Spaces per nesting level. Response fixtures in Intacct's own SDK tests,
/// captured from the gateway, indent by six spaces.
const INDENT: usize = 6;

/// Writes an XML document element by element, indenting nested elements the
/// way the gateway does. Names are trusted constants; text and attribute
/// values are escaped.
pub(crate) struct XmlWriter {
    out: String,
    depth: usize,
}

impl XmlWriter {
    /// Starts a document with the XML declaration.
    pub(crate) fn new() -> Self {
        XmlWriter {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            depth: 0,
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.depth * INDENT {
            self.out.push(' ');
        }
    }

    /// Opens an element that will contain child elements.
    pub(crate) fn open(&mut self, name: &str) {
        self.open_with_attributes(name, &[]);
    }

    /// Opens an element with attributes that will contain child elements.
    pub(crate) fn open_with_attributes(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.push_attributes(attributes);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    /// Writes an element without content: `<name a="v"/>`.
    pub(crate) fn empty_with_attributes(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.push_attributes(attributes);
        self.out.push_str("/>\n");
    }

    fn push_attributes(&mut self, attributes: &[(&str, &str)]) {
        for (key, value) in attributes {
            self.out.push(' ');
            self.out.push_str(key);
            self.out.push_str("=\"");
            push_escaped(&mut self.out, value);
            self.out.push('"');
        }
    }

    /// Closes the element opened last.
    pub(crate) fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    /// Writes `<name>text</name>` on one line; empty text gives
    /// `<name></name>`, as the gateway writes empty values.
    pub(crate) fn leaf(&mut self, name: &str, text: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        push_escaped(&mut self.out, text);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    /// Returns the finished document.
    pub(crate) fn finish(self) -> String {
        self.out
    }
}

/// Appends `text` with `&`, `<`, `>`, `"` and `'` replaced by entity
/// references, which is valid in both text and attribute values. Characters
/// that XML 1.0 forbids (control characters other than tab, line feed and
/// carriage return, and U+FFFE and U+FFFF), which can reach an error message
/// from a broken request, become U+FFFD.
fn push_escaped(out: &mut String, text: &str) {
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(character),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            other => out.push(other),
        }
    }
}

/// Escapes text for HTML pages (the same five characters as XML).
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(&mut out, text);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_indents_and_escapes() {
        let mut writer = XmlWriter::new();
        writer.open("response");
        writer.leaf("companyid", "A|B&<C>");
        writer.leaf("locationid", "");
        writer.empty_with_attributes("data", &[("listtype", "a\"b")]);
        writer.close("response");
        let text = writer.finish();
        assert_eq!(
            text,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <response>\n      \
             <companyid>A|B&amp;&lt;C&gt;</companyid>\n      \
             <locationid></locationid>\n      \
             <data listtype=\"a&quot;b\"/>\n\
             </response>\n"
        );
    }

    #[test]
    fn forbidden_characters_replaced() {
        assert_eq!(
            escape("a\u{0}b\u{1b}c\td\u{fffe}"),
            "a\u{fffd}b\u{fffd}c\td\u{fffd}"
        );
    }

    #[test]
    fn writer_output_parses_back() {
        let mut writer = XmlWriter::new();
        writer.open("r");
        writer.leaf("v", "x'y\"z&<>");
        writer.close("r");
        let text = writer.finish();
        let document = roxmltree::Document::parse(&text).unwrap();
        let value = document.root_element().first_element_child().unwrap();
        assert_eq!(value.text(), Some("x'y\"z&<>"));
    }
}
