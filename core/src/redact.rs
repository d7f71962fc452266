//! Redacted display of secrets.

use core::fmt;

/// Shows at most the first four characters of a secret and its length, as
/// `abcd…(42 bytes)`, so logs can tell sessions apart without holding one.
/// Values of eight bytes or fewer show no characters at all.
#[derive(Clone, Copy)]
pub struct Redacted<'a>(pub &'a str);

impl Redacted<'_> {
    fn prefix(&self) -> &str {
        if self.0.len() <= 8 {
            return "";
        }
        let end = self
            .0
            .char_indices()
            .nth(4)
            .map_or(self.0.len(), |(i, _)| i);
        self.0.get(..end).unwrap_or("")
    }
}

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}…({} bytes)", self.prefix(), self.0.len())
    }
}

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Redacted<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}…({=usize} bytes)", self.prefix(), self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::Redacted;
    use std::format;

    #[test]
    fn redacted_hides_all_but_prefix() {
        let id = "AbCdEfGhIjKlMnOp..";
        assert_eq!(format!("{}", Redacted(id)), "AbCd…(18 bytes)");
        assert_eq!(format!("{:?}", Redacted("short")), "…(5 bytes)");
        assert_eq!(format!("{}", Redacted("ééééééééé")), "éééé…(18 bytes)");
    }
}
