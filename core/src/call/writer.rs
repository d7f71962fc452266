//! A checked, escaping writer for a function's XML, and functions built
//! from a closure that uses it.

use crate::request::{Function, RequestError};
use crate::xml::escape::{InvalidChar, Sink, check_chars, write_escaped};

/// Writing failed. The reason is kept by the writer's caller (the request
/// validator or writer); a closure only passes this on with `?`.
#[derive(Debug)]
pub struct WriteFailed(());

/// The destination of a [`FunctionWriter`]'s output: a validator that
/// checks every name and value, or a sink that receives the bytes.
trait Output {
    fn put(&mut self, text: &str) -> Result<(), WriteFailed>;
    fn check_name(&mut self, name: &'static str) -> Result<(), WriteFailed>;
    fn check_value(&mut self, field: &'static str, value: &str) -> Result<(), WriteFailed>;
}

/// Checks names and values, writes nothing, and keeps the first error.
#[derive(Default)]
struct Validator {
    error: Option<RequestError>,
}

impl Validator {
    fn fail(&mut self, error: RequestError) -> Result<(), WriteFailed> {
        self.error.get_or_insert(error);
        Err(WriteFailed(()))
    }
}

impl Output for Validator {
    fn put(&mut self, _text: &str) -> Result<(), WriteFailed> {
        Ok(())
    }

    fn check_name(&mut self, name: &'static str) -> Result<(), WriteFailed> {
        match check_name(name) {
            Ok(()) => Ok(()),
            Err(error) => self.fail(error),
        }
    }

    fn check_value(&mut self, field: &'static str, value: &str) -> Result<(), WriteFailed> {
        match check_chars(field, value) {
            Ok(()) => Ok(()),
            Err(error) => self.fail(error.into()),
        }
    }
}

/// Sends bytes to a sink and keeps its error. Values were checked by the
/// [`Validator`] pass first.
struct SinkOutput<'s, S: Sink> {
    sink: &'s mut S,
    error: Option<S::Error>,
}

impl<S: Sink> Output for SinkOutput<'_, S> {
    fn put(&mut self, text: &str) -> Result<(), WriteFailed> {
        self.sink.put_str(text).map_err(|error| {
            self.error = Some(error);
            WriteFailed(())
        })
    }

    fn check_name(&mut self, _name: &'static str) -> Result<(), WriteFailed> {
        Ok(())
    }

    fn check_value(&mut self, _field: &'static str, _value: &str) -> Result<(), WriteFailed> {
        Ok(())
    }
}

/// Lets [`write_escaped`] write through an [`Output`].
struct EscapeSink<'o>(&'o mut dyn Output);

impl Sink for EscapeSink<'_> {
    type Error = WriteFailed;

    fn put(&mut self, bytes: &[u8]) -> Result<(), WriteFailed> {
        // `write_escaped` splits its input only before and after ASCII
        // bytes, so every piece it passes is valid UTF-8.
        match core::str::from_utf8(bytes) {
            Ok(text) => self.0.put(text),
            Err(_) => Err(WriteFailed(())),
        }
    }
}

/// Writes the XML of a function body: elements, attributes and text, with
/// every value checked against the XML 1.0 character set and escaped.
///
/// Tags cannot be left open: an element's content is written by a closure
/// inside [`FunctionWriter::element`], which closes the element after it.
/// Names are `&'static str` so that an error can name the element it is in.
pub struct FunctionWriter<'w> {
    output: &'w mut dyn Output,
    /// The innermost open element, named in errors about its text.
    element: &'static str,
}

impl FunctionWriter<'_> {
    /// Writes `<name>value</name>`, with `value` escaped.
    pub fn text_element(&mut self, name: &'static str, value: &str) -> Result<(), WriteFailed> {
        self.output.check_name(name)?;
        self.output.check_value(name, value)?;
        self.start_tag(name, &[])?;
        write_escaped(&mut EscapeSink(&mut *self.output), value)?;
        self.end_tag(name)
    }

    /// Writes `<name/>`.
    pub fn empty_element(&mut self, name: &'static str) -> Result<(), WriteFailed> {
        self.empty_element_with_attributes(name, &[])
    }

    /// Writes `<name a="v" …/>`, with each attribute value escaped.
    pub fn empty_element_with_attributes(
        &mut self,
        name: &'static str,
        attributes: &[(&'static str, &str)],
    ) -> Result<(), WriteFailed> {
        self.output.check_name(name)?;
        self.check_attributes(attributes)?;
        self.output.put("<")?;
        self.output.put(name)?;
        self.write_attributes(attributes)?;
        self.output.put("/>")
    }

    /// Writes `<name>`, then what `content` writes, then `</name>`.
    pub fn element<C>(&mut self, name: &'static str, content: C) -> Result<(), WriteFailed>
    where
        C: FnOnce(&mut Self) -> Result<(), WriteFailed>,
    {
        self.element_with_attributes(name, &[], content)
    }

    /// Writes `<name a="v" …>`, then what `content` writes, then
    /// `</name>`.
    pub fn element_with_attributes<C>(
        &mut self,
        name: &'static str,
        attributes: &[(&'static str, &str)],
        content: C,
    ) -> Result<(), WriteFailed>
    where
        C: FnOnce(&mut Self) -> Result<(), WriteFailed>,
    {
        self.output.check_name(name)?;
        self.check_attributes(attributes)?;
        self.start_tag(name, attributes)?;
        let parent = core::mem::replace(&mut self.element, name);
        let written = content(self);
        self.element = parent;
        written?;
        self.end_tag(name)
    }

    /// Writes `value` escaped, as text of the innermost open element.
    pub fn text(&mut self, value: &str) -> Result<(), WriteFailed> {
        self.output.check_value(self.element, value)?;
        write_escaped(&mut EscapeSink(&mut *self.output), value)
    }

    fn check_attributes(&mut self, attributes: &[(&'static str, &str)]) -> Result<(), WriteFailed> {
        for &(name, value) in attributes {
            self.output.check_name(name)?;
            self.output.check_value(name, value)?;
        }
        Ok(())
    }

    fn write_attributes(&mut self, attributes: &[(&'static str, &str)]) -> Result<(), WriteFailed> {
        for &(name, value) in attributes {
            self.output.put(" ")?;
            self.output.put(name)?;
            self.output.put("=\"")?;
            write_escaped(&mut EscapeSink(&mut *self.output), value)?;
            self.output.put("\"")?;
        }
        Ok(())
    }

    fn start_tag(
        &mut self,
        name: &'static str,
        attributes: &[(&'static str, &str)],
    ) -> Result<(), WriteFailed> {
        self.output.put("<")?;
        self.output.put(name)?;
        self.write_attributes(attributes)?;
        self.output.put(">")
    }

    fn end_tag(&mut self, name: &'static str) -> Result<(), WriteFailed> {
        self.output.put("</")?;
        self.output.put(name)?;
        self.output.put(">")
    }
}

/// Checks that `name` is an XML name made of letters, digits, `_`, `-`,
/// `.` and `:`, not starting with a digit, `-` or `.`. XML allows a few
/// more characters; gateway element names never use them.
fn check_name(name: &'static str) -> Result<(), RequestError> {
    if name.is_empty() {
        return Err(RequestError::Empty {
            field: "element name",
        });
    }
    let invalid = name.char_indices().find(|&(offset, c)| {
        let allowed_anywhere = c.is_alphabetic() || c == '_' || c == ':';
        let allowed_after_first = c.is_alphanumeric() || matches!(c, '-' | '.');
        !(allowed_anywhere || (offset > 0 && allowed_after_first))
    });
    match invalid {
        None => Ok(()),
        Some((offset, c)) => Err(RequestError::InvalidChar(InvalidChar {
            field: name,
            offset,
            code_point: c as u32,
        })),
    }
}

/// A function whose body a closure writes through a [`FunctionWriter`].
///
/// Built by [`from_fn`].
#[derive(Clone, Copy)]
pub struct FromFn<F> {
    name: &'static str,
    content: F,
}

impl<F> core::fmt::Debug for FromFn<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FromFn")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Builds a function named `name` whose element content `content` writes.
///
/// The request writes `<name>`, the content and `</name>`. The closure runs
/// three times per request (to check every name and value, to count bytes
/// and to write them) and must write the same thing each time. It passes
/// the writer's errors on with `?`.
///
/// ```
/// use intacct_core::call::from_fn;
/// use intacct_core::request::{Authentication, Control, Request, Sender};
///
/// let entity = "EAST";
/// let function = from_fn("readByQuery", |w| {
///     w.text_element("object", "LOCATION")?;
///     w.text_element("fields", "LOCATIONID,NAME")?;
///     w.element("query", |w| {
///         w.text("LOCATIONID = '")?;
///         w.text(entity)?;
///         w.text("'")
///     })?;
///     w.text_element("pagesize", "100")
/// });
/// let request = Request {
///     control: Control::new(Sender { sender_id: "s", sender_password: "p" }, "c-1"),
///     authentication: Authentication::Session("session-id"),
///     function_control_id: "f-1",
///     function,
/// };
/// let mut buf = [0u8; 1024];
/// let len = request.write_to_slice(&mut buf)?;
/// let text = core::str::from_utf8(&buf[..len]).unwrap();
/// assert!(text.contains("<query>LOCATIONID = &apos;EAST&apos;</query>"));
/// # Ok::<(), intacct_core::request::RequestError>(())
/// ```
pub fn from_fn<F>(name: &'static str, content: F) -> FromFn<F>
where
    F: Fn(&mut FunctionWriter<'_>) -> Result<(), WriteFailed>,
{
    FromFn { name, content }
}

impl<F> FromFn<F>
where
    F: Fn(&mut FunctionWriter<'_>) -> Result<(), WriteFailed>,
{
    fn run(&self, output: &mut dyn Output) -> Result<(), WriteFailed> {
        let mut writer = FunctionWriter {
            output,
            element: self.name,
        };
        writer.element(self.name, |w| (self.content)(w))
    }
}

impl<F> Function for FromFn<F>
where
    F: Fn(&mut FunctionWriter<'_>) -> Result<(), WriteFailed>,
{
    fn name(&self) -> &str {
        self.name
    }

    fn validate(&self) -> Result<(), RequestError> {
        let mut validator = Validator::default();
        // A `WriteFailed` only comes from a writer method that recorded its
        // reason, so the recorded error is the whole outcome.
        let _ = self.run(&mut validator);
        match validator.error {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    fn write<S: Sink>(&self, sink: &mut S) -> Result<(), S::Error> {
        let mut output = SinkOutput { sink, error: None };
        let _ = self.run(&mut output);
        match output.error {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::escape::{Counter, SliceSink};
    use std::string::String;

    fn written<F: Function>(function: &F) -> String {
        function.validate().unwrap();
        let mut buf = [0u8; 512];
        let mut sink = SliceSink::new(&mut buf);
        function.write(&mut sink).unwrap();
        let len = sink.len();
        let mut counter = Counter::default();
        let Ok(()) = function.write(&mut counter);
        assert_eq!(counter.len, len, "count and write agree");
        String::from_utf8(buf[..len].to_vec()).unwrap()
    }

    #[test]
    fn writer_escapes_text_and_attributes() {
        let function = from_fn("create", |w| {
            w.element_with_attributes("LOCATION", &[("note", "a\"b<c")], |w| {
                w.text_element("NAME", "East & West")?;
                w.empty_element("PARENTID")?;
                w.empty_element_with_attributes("X", &[("k", "'v'")])?;
                w.element("DESCRIPTION", |w| {
                    w.text("line 1\n")?;
                    w.text("> line 2")
                })
            })
        });
        assert_eq!(
            written(&function),
            "<create><LOCATION note=\"a&quot;b&lt;c\"><NAME>East &amp; West</NAME>\
             <PARENTID/><X k=\"&apos;v&apos;\"/>\
             <DESCRIPTION>line 1&#10;&gt; line 2</DESCRIPTION></LOCATION></create>"
        );
        assert_eq!(function.name(), "create");
    }

    #[test]
    fn writer_names_the_element_of_bad_text() {
        let function = from_fn("create", |w| {
            w.element("LOCATION", |w| w.element("NAME", |w| w.text("bad\u{1}")))
        });
        let error = function.validate().unwrap_err();
        assert_eq!(
            error,
            RequestError::InvalidChar(InvalidChar {
                field: "NAME",
                offset: 3,
                code_point: 1
            })
        );
        let attribute = from_fn("f", |w| {
            w.empty_element_with_attributes("e", &[("key", "\u{0}")])
        });
        assert!(matches!(
            attribute.validate(),
            Err(RequestError::InvalidChar(InvalidChar { field: "key", .. }))
        ));
    }

    #[test]
    fn writer_rejects_bad_names() {
        let cases: &[(&'static str, Option<(usize, u32)>)] = &[
            ("", None),
            ("1abc", Some((0, u32::from('1')))),
            ("-a", Some((0, u32::from('-')))),
            ("a b", Some((1, u32::from(' ')))),
            ("a<", Some((1, u32::from('<')))),
        ];
        for &(name, expected) in cases {
            let function = from_fn("f", move |w| w.empty_element(name));
            let error = function.validate().unwrap_err();
            match expected {
                None => assert_eq!(
                    error,
                    RequestError::Empty {
                        field: "element name"
                    }
                ),
                Some((offset, code_point)) => assert_eq!(
                    error,
                    RequestError::InvalidChar(InvalidChar {
                        field: name,
                        offset,
                        code_point
                    }),
                    "{name:?}"
                ),
            }
        }
        assert!(
            from_fn("f", |w| w.empty_element("ns:a-b.c_1"))
                .validate()
                .is_ok()
        );
        assert!(from_fn("bad name", |_| Ok(())).validate().is_err());
    }

    #[test]
    fn writer_reports_small_buffer() {
        let function = from_fn("readByQuery", |w| w.text_element("object", "LOCATION"));
        let mut buf = [0u8; 10];
        let mut sink = SliceSink::new(&mut buf);
        let error = function.write(&mut sink).unwrap_err();
        assert_eq!(error.capacity, 10);
        assert!(error.needed > 10);
    }
}
