//! An API session and its projected timeout.
//!
//! The gateway's session timeout slides: every call made with the session
//! before it expires moves the timeout to "now plus the session duration",
//! and each response's `authentication` element states the new
//! `sessiontimestamp` and `sessiontimeout`. [`Session`] keeps the id, the
//! endpoint and the location together and records those values from every
//! response.
//!
//! The remaining lifetime is `sessiontimeout - sessiontimestamp`, both
//! stated by the gateway in the same clock, counted from the moment the
//! response arrived on the caller's monotonic [`Clock`]. A device needs no
//! wall clock and is immune to a wrong one.

use crate::endpoint::EndpointUrl;
use crate::response::{
    ApiSession, AuthenticationInfo, COMPANY_ID_CAPACITY, Location, SessionId, USER_ID_CAPACITY,
};
use core::fmt;

/// A monotonic millisecond clock, such as a hardware timer or
/// `std::time::Instant`. It never goes backwards; its zero is arbitrary.
pub trait Clock {
    /// Milliseconds since an arbitrary, fixed start.
    fn now_ms(&self) -> u64;
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now_ms(&self) -> u64 {
        (**self).now_ms()
    }
}

impl<C: Clock + ?Sized> Clock for &mut C {
    fn now_ms(&self) -> u64 {
        (**self).now_ms()
    }
}

/// The session's lifetime as last stated by the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Lifetime {
    /// Last `sessiontimestamp`, in Unix seconds.
    pub session_timestamp: Option<i64>,
    /// Last `sessiontimeout`, in Unix seconds. `None` means unknown.
    pub session_timeout: Option<i64>,
    /// When the response that stated them arrived, on the caller's
    /// [`Clock`]; `None` when no clock was given.
    pub received_at_ms: Option<u64>,
}

impl Lifetime {
    /// Seconds the session had left when the response was sent:
    /// `sessiontimeout - sessiontimestamp`. `None` when either is missing or
    /// the difference is not positive, which leaves the lifetime unknown.
    pub fn duration_s(&self) -> Option<i64> {
        let duration = self.session_timeout?.checked_sub(self.session_timestamp?)?;
        (duration > 0).then_some(duration)
    }

    /// Returns the clock reading at which the session expires, `None` when
    /// unknown.
    pub fn expires_at_ms(&self) -> Option<u64> {
        let duration_s = self.duration_s()?;
        let duration_ms = u64::try_from(duration_s).unwrap_or(0).saturating_mul(1000);
        Some(self.received_at_ms?.saturating_add(duration_ms))
    }

    /// Milliseconds left at clock reading `now_ms`; `Some(0)` once expired
    /// and `None` when unknown.
    pub fn remaining_ms(&self, now_ms: u64) -> Option<u64> {
        Some(self.expires_at_ms()?.saturating_sub(now_ms))
    }
}

/// An API session: its id, the endpoint it is tied to and its location,
/// with who it belongs to and how long it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Session {
    /// `sessionid`. Redacted in `Debug` and `defmt` output.
    pub session_id: SessionId,
    /// The endpoint calls with this session must go to. It passed the
    /// endpoint host rule when the session was created.
    pub endpoint: EndpointUrl,
    /// The level the session is at.
    pub location: Location,
    /// `userid` from the response, empty when not stated.
    pub user_id: heapless::String<USER_ID_CAPACITY>,
    /// `companyid` from the response, empty when not stated.
    pub company_id: heapless::String<COMPANY_ID_CAPACITY>,
    /// The lifetime from the most recent response.
    pub lifetime: Lifetime,
}

impl Session {
    /// Builds a session from a `getAPISession` result and the response's
    /// `authentication` element, received at clock reading
    /// `received_at_ms`.
    pub fn new(
        api: ApiSession,
        authentication: Option<&AuthenticationInfo>,
        received_at_ms: Option<u64>,
    ) -> Self {
        let mut session = Self {
            session_id: api.session_id,
            endpoint: api.endpoint,
            location: api.location,
            user_id: heapless::String::new(),
            company_id: heapless::String::new(),
            lifetime: Lifetime::default(),
        };
        if let Some(auth) = authentication {
            session.user_id = auth.user_id.clone();
            session.company_id = auth.company_id.clone();
            session.record(auth, received_at_ms);
        }
        session
    }

    /// Records the lifetime stated by a later response's `authentication`
    /// element, received at `received_at_ms`. A response without a
    /// `sessiontimeout` makes the lifetime unknown.
    pub fn record(&mut self, authentication: &AuthenticationInfo, received_at_ms: Option<u64>) {
        self.lifetime = Lifetime {
            session_timestamp: authentication.session_timestamp,
            session_timeout: authentication.session_timeout,
            received_at_ms,
        };
    }

    /// Returns the projected timeout in Unix seconds, as the gateway stated
    /// it.
    pub fn projected_timeout(&self) -> Option<i64> {
        self.lifetime.session_timeout
    }

    /// Returns whether the session has expired at `now_ms`. An unknown
    /// lifetime gives `false`, because an unknown timeout is not an expired
    /// one.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.lifetime.remaining_ms(now_ms) == Some(0)
    }
}

impl fmt::Display for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "session {} at {} ({})",
            self.session_id, self.endpoint, self.location
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(timestamp: i64, timeout: Option<i64>) -> AuthenticationInfo {
        AuthenticationInfo {
            session_timestamp: Some(timestamp),
            session_timeout: timeout,
            ..AuthenticationInfo::default()
        }
    }

    fn api() -> ApiSession {
        ApiSession {
            session_id: SessionId::new("abcdefghijklmnop..").unwrap(),
            endpoint: "https://api.intacct.com/ia/xml/xmlgw.phtml"
                .try_into()
                .unwrap(),
            location: Location::TopLevel,
        }
    }

    #[test]
    fn session_tracks_remaining_time_on_monotonic_clock() {
        let session = Session::new(api(), Some(&auth(1_000, Some(1_000 + 1800))), Some(50_000));
        assert_eq!(session.projected_timeout(), Some(2_800));
        assert_eq!(session.lifetime.remaining_ms(50_000), Some(1_800_000));
        assert_eq!(session.lifetime.remaining_ms(50_000 + 1_799_999), Some(1));
        assert!(!session.is_expired(50_000 + 1_799_999));
        assert!(session.is_expired(50_000 + 1_800_000));
    }

    #[test]
    fn session_timeout_slides_on_record() {
        let mut session = Session::new(api(), Some(&auth(1_000, Some(2_800))), Some(0));
        session.record(&auth(1_600, Some(3_400)), Some(600_000));
        assert_eq!(session.projected_timeout(), Some(3_400));
        assert_eq!(session.lifetime.expires_at_ms(), Some(2_400_000));
    }

    #[test]
    fn session_missing_timeout_is_unknown_not_expired() {
        let session = Session::new(api(), Some(&auth(1_000, None)), Some(0));
        assert_eq!(session.lifetime.remaining_ms(u64::MAX), None);
        assert!(!session.is_expired(u64::MAX));
        let without_clock = Session::new(api(), Some(&auth(1_000, Some(2_000))), None);
        assert_eq!(without_clock.lifetime.remaining_ms(0), None);
        assert_eq!(without_clock.projected_timeout(), Some(2_000));
    }

    #[test]
    fn session_non_positive_duration_is_unknown() {
        for timeout in [1_000, 999] {
            let session = Session::new(api(), Some(&auth(1_000, Some(timeout))), Some(0));
            assert_eq!(session.lifetime.duration_s(), None, "timeout {timeout}");
            assert!(!session.is_expired(u64::MAX), "timeout {timeout}");
        }
    }

    #[test]
    fn session_display_redacts_id() {
        let session = Session::new(api(), None, None);
        let text = std::format!("{session} {session:?}");
        assert!(!text.contains("abcdefghijklmnop"));
        assert!(text.contains("abcd…(18 bytes)"));
    }
}
