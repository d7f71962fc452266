//! The `readByQuery` function.

use crate::request::{Function, RequestError, check_required};
use crate::xml::escape::{Sink, check_chars, write_escaped};
use core::fmt::Write as _;

/// `readByQuery`: records of one object that match a query.
///
/// ```xml
/// <readByQuery><object>LOCATION</object><fields>*</fields>
///   <query></query><pagesize>100</pagesize></readByQuery>
/// ```
///
/// The records come back as child elements of `data`, read with
/// [`Data::records`](crate::data::Data::records); `numremaining` and
/// `resultId` tell whether more pages are left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ReadByQuery<'a> {
    /// `object`: the object's integration name, such as `LOCATION`.
    pub object: &'a str,
    /// `fields`: a comma-separated list of field names, or `*` for all.
    pub fields: &'a str,
    /// `query`: the filter in the gateway's query syntax; empty matches
    /// every record.
    pub query: &'a str,
    /// `pagesize`: records per response.
    pub page_size: u16,
}

impl<'a> ReadByQuery<'a> {
    /// Creates a query for every field of every record of `object`, 100
    /// records per page.
    pub const fn new(object: &'a str) -> Self {
        Self {
            object,
            fields: "*",
            query: "",
            page_size: 100,
        }
    }
}

impl Function for ReadByQuery<'_> {
    fn name(&self) -> &str {
        "readByQuery"
    }

    fn validate(&self) -> Result<(), RequestError> {
        check_required("object", self.object)?;
        check_required("fields", self.fields)?;
        check_chars("query", self.query)?;
        Ok(())
    }

    fn write<S: Sink>(&self, sink: &mut S) -> Result<(), S::Error> {
        sink.put_str("<readByQuery><object>")?;
        write_escaped(sink, self.object)?;
        sink.put_str("</object><fields>")?;
        write_escaped(sink, self.fields)?;
        sink.put_str("</fields><query>")?;
        write_escaped(sink, self.query)?;
        sink.put_str("</query><pagesize>")?;
        let mut digits = heapless::String::<5>::new();
        // A u16 has at most five digits, so the write cannot fail.
        let _ = write!(digits, "{}", self.page_size);
        sink.put_str(&digits)?;
        sink.put_str("</pagesize></readByQuery>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::escape::SliceSink;

    #[test]
    fn read_by_query_writes_escaped_values() {
        let function = ReadByQuery {
            query: "NAME = 'A&B' AND X < 3",
            page_size: 65535,
            ..ReadByQuery::new("LOCATION")
        };
        function.validate().unwrap();
        let mut buf = [0u8; 256];
        let mut sink = SliceSink::new(&mut buf);
        function.write(&mut sink).unwrap();
        let len = sink.len();
        assert_eq!(
            core::str::from_utf8(&buf[..len]).unwrap(),
            "<readByQuery><object>LOCATION</object><fields>*</fields>\
             <query>NAME = &apos;A&amp;B&apos; AND X &lt; 3</query>\
             <pagesize>65535</pagesize></readByQuery>"
        );
    }

    #[test]
    fn read_by_query_names_bad_field() {
        assert_eq!(
            ReadByQuery::new("").validate(),
            Err(RequestError::Empty { field: "object" })
        );
        let no_fields = ReadByQuery {
            fields: "",
            ..ReadByQuery::new("LOCATION")
        };
        assert_eq!(
            no_fields.validate(),
            Err(RequestError::Empty { field: "fields" })
        );
        let bad_query = ReadByQuery {
            query: "\u{1}",
            ..ReadByQuery::new("LOCATION")
        };
        assert!(matches!(
            bad_query.validate(),
            Err(RequestError::InvalidChar(e)) if e.field == "query"
        ));
    }
}
