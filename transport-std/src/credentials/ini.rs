//! A small INI reader for `credentials.ini`.
//!
//! Accepted syntax:
//! - `[name]` starts a section; a `;` or `#` comment may follow the `]`.
//! - `key = value`, split at the first `=`, with surrounding whitespace
//!   trimmed. A value wrapped in matching `"` or `'` quotes loses them.
//!   Everything else after the `=` belongs to the value, including `;` and
//!   `#`, so passwords may contain them. This matches .NET's INI provider
//!   and differs from PHP's `parse_ini_file`, which cuts unquoted values
//!   at `;`.
//! - Lines whose first non-blank character is `;` or `#` are comments.
//! - A UTF-8 byte order mark and CRLF line ends are accepted.
//!
//! Section names and keys compare case-insensitively (ASCII), as in .NET's
//! INI provider. Sections with the same name are merged, and a key set twice
//! in one section is an error, because silently picking one value could
//! send the wrong password. Keys before the first section are ignored,
//! because the SDKs never read them either.
//!
//! Error reasons never quote a line's text, because it may hold a password.

/// A parsed INI file.
#[derive(Debug, Default)]
pub(crate) struct IniFile {
    sections: Vec<Section>,
}

#[derive(Debug)]
struct Section {
    name: String,
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    key: String,
    value: String,
    line: usize,
}

/// A syntax error, with the 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IniError {
    pub(crate) line: usize,
    pub(crate) reason: String,
}

const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

/// Decodes `bytes` as UTF-8, dropping a leading byte order mark.
pub(crate) fn decode(bytes: &[u8]) -> Result<&str, IniError> {
    let bytes = bytes.strip_prefix(BYTE_ORDER_MARK).unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|error| {
        let valid = bytes.get(..error.valid_up_to()).unwrap_or_default();
        let line = 1 + valid.iter().filter(|&&byte| byte == b'\n').count();
        IniError {
            line,
            reason: "the file is not valid UTF-8".to_owned(),
        }
    })
}

/// Parses INI text.
pub(crate) fn parse(text: &str) -> Result<IniFile, IniError> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut file = IniFile::default();
    // Index into `file.sections` of the section being filled, if any.
    let mut current: Option<usize> = None;

    for (index, raw_line) in text.split('\n').enumerate() {
        let line_number = index + 1;
        let error = |reason: String| IniError {
            line: line_number,
            reason,
        };
        let line = raw_line.trim();

        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }

        if let Some(header) = line.strip_prefix('[') {
            let name = parse_header(header).map_err(error)?;
            file.sections.push(Section {
                name: name.to_owned(),
                entries: Vec::new(),
            });
            current = Some(file.sections.len() - 1);
            continue;
        }

        let Some((key, value)) = line.split_once('=') else {
            return Err(error(
                "expected `key = value`, a `[profile]` header or a `;` comment".to_owned(),
            ));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(error("the key before `=` is empty".to_owned()));
        }
        let Some(section_index) = current else {
            log::debug!(
                "credentials file line {line_number}: ignoring key {key} outside any [profile] section"
            );
            continue;
        };

        if let Some((section, earlier)) = file.find_entry(section_index, key) {
            return Err(error(format!(
                "key {key} is set again in [{section}]; it was already set on line {earlier}"
            )));
        }
        if let Some(section) = file.sections.get_mut(section_index) {
            section.entries.push(Entry {
                key: key.to_owned(),
                value: unquote(value.trim()).to_owned(),
                line: line_number,
            });
        }
    }
    Ok(file)
}

/// Parses the rest of a `[name]` line after the `[`.
fn parse_header(header: &str) -> Result<&str, String> {
    let Some((name, rest)) = header.split_once(']') else {
        return Err("the section header has no closing `]`".to_owned());
    };
    let rest = rest.trim_start();
    if !(rest.is_empty() || rest.starts_with(';') || rest.starts_with('#')) {
        return Err("unexpected text after the section header's `]`".to_owned());
    }
    let name = name.trim();
    if name.is_empty() {
        return Err("the section name is empty".to_owned());
    }
    Ok(name)
}

/// Strips one pair of matching quotes around `value`.
fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            return inner;
        }
    }
    value
}

impl IniFile {
    /// Finds `key` in any section named like the section at `section_index`,
    /// returning that section's name and the line the key was set on.
    fn find_entry(&self, section_index: usize, key: &str) -> Option<(&str, usize)> {
        let name = &self.sections.get(section_index)?.name;
        self.sections
            .iter()
            .filter(|section| section.name.eq_ignore_ascii_case(name))
            .flat_map(|section| section.entries.iter().map(move |entry| (section, entry)))
            .find(|(_, entry)| entry.key.eq_ignore_ascii_case(key))
            .map(|(section, entry)| (section.name.as_str(), entry.line))
    }

    /// Returns `true` when a section named `name` exists.
    pub(crate) fn has_section(&self, name: &str) -> bool {
        self.sections
            .iter()
            .any(|section| section.name.eq_ignore_ascii_case(name))
    }

    /// Returns the section names in file order, without repeats.
    pub(crate) fn section_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for section in &self.sections {
            if !names
                .iter()
                .any(|name| name.eq_ignore_ascii_case(&section.name))
            {
                names.push(section.name.clone());
            }
        }
        names
    }

    /// Returns the value of `key` in section `section`, if set.
    pub(crate) fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.sections
            .iter()
            .filter(|candidate| candidate.name.eq_ignore_ascii_case(section))
            .flat_map(|candidate| candidate.entries.iter())
            .find(|entry| entry.key.eq_ignore_ascii_case(key))
            .map(|entry| entry.value.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_keys_and_comments() {
        let file = parse(
            "; leading comment\n\
             # another\n\
             [default]\n\
             sender_id = sid\n\
             \tcompany_id=co   \n\
             \n\
             [other] ; trailing comment\n\
             user_id = \"quoted value\"\n\
             user_password = 'single'\n",
        )
        .unwrap();
        assert_eq!(file.get("default", "sender_id"), Some("sid"));
        assert_eq!(file.get("default", "company_id"), Some("co"));
        assert_eq!(file.get("other", "user_id"), Some("quoted value"));
        assert_eq!(file.get("other", "user_password"), Some("single"));
        assert_eq!(file.get("default", "user_id"), None);
        assert_eq!(file.section_names(), vec!["default", "other"]);
    }

    #[test]
    fn value_keeps_comment_characters() {
        let file = parse("[p]\nuser_password = a;b#c=d\n").unwrap();
        assert_eq!(file.get("p", "user_password"), Some("a;b#c=d"));
    }

    #[test]
    fn names_compare_case_insensitively() {
        let file = parse("[Default]\nSender_ID = x\n").unwrap();
        assert_eq!(file.get("default", "sender_id"), Some("x"));
        assert!(file.has_section("DEFAULT"));
    }

    #[test]
    fn crlf_and_bom_are_accepted() {
        let bytes = b"\xEF\xBB\xBF[default]\r\nsender_id = sid\r\nsender_password = pw\r\n";
        let file = parse(decode(bytes).unwrap()).unwrap();
        assert_eq!(file.get("default", "sender_id"), Some("sid"));
        assert_eq!(file.get("default", "sender_password"), Some("pw"));
    }

    #[test]
    fn empty_value_is_kept_empty() {
        let file = parse("[p]\nentity_id =\n").unwrap();
        assert_eq!(file.get("p", "entity_id"), Some(""));
    }

    #[test]
    fn unmatched_quote_is_kept() {
        let file = parse("[p]\nuser_password = \"abc\n").unwrap();
        assert_eq!(file.get("p", "user_password"), Some("\"abc"));
    }

    #[test]
    fn duplicate_key_is_rejected() {
        let error = parse("[p]\nuser_id = a\n[q]\n[P]\nUSER_ID = b\n").unwrap_err();
        assert_eq!(error.line, 5);
        assert!(
            error.reason.contains("already set on line 2"),
            "{}",
            error.reason
        );
    }

    #[test]
    fn malformed_lines_are_rejected() {
        let cases = [
            ("[p]\njust text\n", 2, "expected `key = value`"),
            ("[p\n", 1, "no closing `]`"),
            ("[]\n", 1, "section name is empty"),
            ("[p] junk\n", 1, "unexpected text"),
            ("[p]\n = value\n", 2, "key before `=` is empty"),
        ];
        for (text, line, reason) in cases {
            let error = parse(text).unwrap_err();
            assert_eq!(error.line, line, "{text:?}");
            assert!(error.reason.contains(reason), "{text:?}: {}", error.reason);
        }
    }

    #[test]
    fn error_does_not_quote_the_line() {
        let error = parse("[p]\nhunter2\n").unwrap_err();
        assert!(!error.reason.contains("hunter2"));
    }

    #[test]
    fn invalid_utf8_names_line() {
        let error = decode(b"[p]\nuser_id = \xFF\n").unwrap_err();
        assert_eq!(error.line, 2);
    }

    #[test]
    fn keys_outside_sections_are_ignored() {
        let file = parse("sender_id = top\n[p]\nuser_id = u\n").unwrap();
        assert_eq!(file.get("p", "sender_id"), None);
        assert_eq!(file.get("p", "user_id"), Some("u"));
    }
}
