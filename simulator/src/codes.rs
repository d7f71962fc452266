//! Error numbers and texts the simulator sends, so tests can assert on them.
//!
//! Numbers marked "seen on the live gateway" appear in Sage Intacct's public
//! SDK test fixtures or developer documentation with the same meaning. The
//! others are the simulator's own choice in the style of real numbers; a
//! client should treat them as opaque.
//!
//! | Case | Layer | `errorno` | HTTP |
//! |---|---|---|---|
//! | Body not well-formed XML, not UTF-8, or empty | control (no echo) | [`GATEWAY_INVALID_REQUEST`] | 400 |
//! | Well-formed but not a valid request (missing element, bad `dtdversion`) | control | [`SCHEMA_ERROR`] | 200 |
//! | Unknown sender id or wrong sender password | control | [`AUTHENTICATION_FAILED`] | 200 |
//! | Unknown company or user, wrong password, login entity unknown or not allowed | authentication | [`AUTHENTICATION_FAILED`] | 401 |
//! | Unknown or expired session id | authentication | [`AUTHENTICATION_FAILED`] | 401 |
//! | `getAPISession` for an entity the company does not have | result | [`ENTITY_NOT_FOUND`] then [`CORRECTION_HINT`] | 200 |
//! | Restricted user asks for the top level | result | [`TOP_LEVEL_DENIED`] | 200 |
//! | Restricted user asks for an entity outside its list | result | [`ENTITY_DENIED`] | 200 |
//! | `getAPISession` next to another function | result | [`GET_API_SESSION_NOT_ALONE`] | 200 |
//! | Unknown function | result | [`UNKNOWN_FUNCTION`] | 200 |
//! | `readByQuery` on an object other than `LOCATION` | result | [`QUERY_FAILED`] | 200 |
//! | Any function of a `transaction="true"` operation in which one failed | result, status `aborted` | the function's own errors, then [`TRANSACTION_ROLLED_BACK`] | 200 |

/// Gateway error for a request body that is not a well-formed XML document
/// (seen on the live gateway as "Invalid Request"). The response has a
/// `control` block with only `status`, because nothing could be echoed.
pub const GATEWAY_INVALID_REQUEST: &str = "GW-0011";
/// `description` of [`GATEWAY_INVALID_REQUEST`]; `description2` names the
/// XML problem and its position.
pub const GATEWAY_INVALID_REQUEST_DESCRIPTION: &str = "An unknown error occurred";

/// Schema error for a well-formed document that is not a valid request
/// (seen on the live gateway). `description2` starts with
/// [`SCHEMA_ERROR_PREFIX`].
pub const SCHEMA_ERROR: &str = "XL03000003";
/// Start of every [`SCHEMA_ERROR`] `description2`.
pub const SCHEMA_ERROR_PREFIX: &str = "XML Parse schema error: ";

/// Credential failure at the control or authentication layer (seen on the
/// live gateway for both).
pub const AUTHENTICATION_FAILED: &str = "XL03000006";
/// `description2` for a wrong sender id or sender password (seen on the live
/// gateway).
pub const SENDER_INVALID_TEXT: &str = "Incorrect Intacct XML Partner ID or password.";
/// `description2` for a failed login (seen on the live gateway).
pub const SIGN_IN_INVALID_TEXT: &str = "Sign-in information is incorrect";
/// `description2` for an unknown or expired session id. The simulator's
/// choice: no public fixture shows the live gateway's wording.
pub const SESSION_INVALID_TEXT: &str = "Invalid session";

/// Second error item of an aborted function (seen on the live gateway).
pub const TRANSACTION_ROLLED_BACK: &str = "XL03000009";
/// `description2` of [`TRANSACTION_ROLLED_BACK`] (seen on the live gateway).
pub const TRANSACTION_ROLLED_BACK_TEXT: &str =
    "The entire transaction in this operation has been rolled back due to an error.";

/// `getAPISession` named an entity the company does not have.
pub const ENTITY_NOT_FOUND: &str = "BL34000061";
/// Second item after [`ENTITY_NOT_FOUND`], with the fix in `correction`.
pub const CORRECTION_HINT: &str = "BL01001973";
/// A user restricted to entities asked for a top-level session.
pub const TOP_LEVEL_DENIED: &str = "BL34000062";
/// A user restricted to entities asked for an entity outside its list.
pub const ENTITY_DENIED: &str = "BL34000063";
/// `getAPISession` was sent in the same request as another function.
pub const GET_API_SESSION_NOT_ALONE: &str = "BL34000064";
/// The function name is not one the simulator serves.
pub const UNKNOWN_FUNCTION: &str = "BL01001972";
/// `readByQuery` failed, for example on an unknown object (seen on the live
/// gateway, which uses this text as the error number).
pub const QUERY_FAILED: &str = "Query Failed";
