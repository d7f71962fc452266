//! XML helpers shared by the request writer and the response reader.
//!
//! - [`escape`]: checks that values fit the XML 1.0 character set and writes
//!   them escaped, through a [`Sink`] that either counts or writes bytes.
//! - [`text`]: borrowed element text that is decoded (entities and character
//!   references) once, when it is compared or copied.

pub mod escape;
pub mod text;

pub use escape::{InvalidChar, Sink};
pub use text::{CapacityError, XmlText};
