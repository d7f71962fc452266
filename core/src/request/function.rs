//! Functions inside `content/function`.

use super::{RequestError, check_required};
use crate::xml::escape::{Sink, write_escaped};

/// The body of one `function` element.
///
/// [`Request`](super::Request) writes the surrounding
/// `<function controlid="…">` and `</function>`; an implementation writes
/// what goes between, escaping every value with
/// [`write_escaped`](crate::xml::escape::write_escaped).
pub trait Function {
    /// Returns the function's name, for logs (`getAPISession`, `readByQuery`).
    fn name(&self) -> &str;

    /// Checks every value the function writes, before anything is written.
    fn validate(&self) -> Result<(), RequestError>;

    /// Writes the function's XML. Called twice per request (to count and to
    /// write), and must produce the same bytes each time.
    fn write<S: Sink>(&self, sink: &mut S) -> Result<(), S::Error>;
}

/// Which level a `getAPISession` session is for.
///
/// The three forms are distinct requests to the gateway, so they are three
/// variants here: there is no way to turn "no `locationid`" into "empty
/// `locationid`" by accident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SessionLocation<'a> {
    /// `<getAPISession/>`: the level the caller is authenticated at.
    #[default]
    Current,
    /// `<locationid/>`: the top level of a multi-entity company.
    TopLevel,
    /// `<locationid>E</locationid>`: entity `E`. It must not be empty.
    Entity(&'a str),
}

/// The `getAPISession` function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GetApiSession<'a> {
    /// The level the new session is for.
    pub location: SessionLocation<'a>,
}

impl<'a> GetApiSession<'a> {
    /// Requests a session at the caller's current level.
    pub const fn current() -> Self {
        Self {
            location: SessionLocation::Current,
        }
    }

    /// Requests a session at the top level.
    pub const fn top_level() -> Self {
        Self {
            location: SessionLocation::TopLevel,
        }
    }

    /// Requests a session for entity `location_id`.
    pub const fn entity(location_id: &'a str) -> Self {
        Self {
            location: SessionLocation::Entity(location_id),
        }
    }
}

impl Function for GetApiSession<'_> {
    fn name(&self) -> &str {
        "getAPISession"
    }

    fn validate(&self) -> Result<(), RequestError> {
        match self.location {
            SessionLocation::Entity(id) => check_required("locationid", id),
            SessionLocation::Current | SessionLocation::TopLevel => Ok(()),
        }
    }

    fn write<S: Sink>(&self, sink: &mut S) -> Result<(), S::Error> {
        match self.location {
            SessionLocation::Current => sink.put_str("<getAPISession/>"),
            SessionLocation::TopLevel => {
                sink.put_str("<getAPISession><locationid/></getAPISession>")
            }
            SessionLocation::Entity(id) => {
                sink.put_str("<getAPISession><locationid>")?;
                write_escaped(sink, id)?;
                sink.put_str("</locationid></getAPISession>")
            }
        }
    }
}
