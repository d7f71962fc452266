//! Keeps one API session alive across many calls: obtains it, renews it
//! before it expires, switches entity, and recovers when the gateway drops
//! it.
//!
//! # Lifecycle
//!
//! 1. **Login.** The first call logs in with the login credentials (straight
//!    into an entity when [`Login::location_id`] is set) and caches the
//!    session with its endpoint and location.
//! 2. **Use.** Calls go to the session's endpoint with `<sessionid>`
//!    authentication. Every response's `authentication` element moves the
//!    projected timeout forward, because the gateway's timeout slides on
//!    each call. A session used more often than its duration never needs
//!    renewing.
//! 3. **Renewal.** Before each call the manager projects the remaining
//!    lifetime on the monotonic [`Clock`](crate::session::Clock):
//!    `sessiontimeout - sessiontimestamp`, counted from when the response
//!    arrived. With less than [`RenewalPolicy::margin_ms`] left, it renews
//!    with `<getAPISession/>` under session authentication, which slides
//!    the timeout and keeps the level. Once the projection shows the session
//!    has expired, it logs in again without asking the gateway first. When
//!    responses state no `sessiontimeout`, the lifetime is unknown and the
//!    manager renews [`RenewalPolicy::unknown_lifetime_interval_ms`] after
//!    the last response, or when the gateway rejects the session.
//! 4. **Entity switches.** [`SessionManager::switch_to_entity`] and
//!    [`SessionManager::switch_to_top_level`] ask for a session at another
//!    level from the current one. A later login goes straight back to that
//!    level. A user restricted to entities gets the gateway's error, and
//!    the session stays where it was.
//! 5. **Rejection.** When the gateway rejects the session of a call
//!    (invalid or expired), the manager logs in again once and sends the
//!    call once more. It never retries a failed login, never logs in twice
//!    for one call, and a manager without login credentials returns the
//!    gateway's error.
//!
//! Transport failures and gateway outages are retried by the
//! [`Client`]'s [`RetryPolicy`](crate::client::RetryPolicy), not here, and
//! leave the cached session in place.

use crate::call::{CallReceipt, CallResult, is_session_rejected};
use crate::client::{Buffers, Client, ClientError, Timer};
use crate::endpoint::{ENDPOINT_CAPACITY, EndpointUrl};
use crate::request::{Authentication, ControlIdSource, Function, Login, SessionLocation};
use crate::response::{GatewayError, LOCATION_ID_CAPACITY, Location, SessionId};
use crate::session::{Lifetime, Session};
use crate::transport::Transport;
use crate::xml::text::CapacityError;
use core::fmt;

/// Default [`RenewalPolicy::margin_ms`]: 2 minutes. It covers the default
/// retry policy's 7 s of backoff, a slow connect and the time between
/// handing a session out and using it. A call that still arrives too late
/// is rejected, and the manager logs in again.
pub const DEFAULT_RENEWAL_MARGIN_MS: u32 = 120_000;

/// Default [`RenewalPolicy::unknown_lifetime_interval_ms`]: 10 minutes.
/// This is a choice, not the gateway's session duration, which a company
/// can configure.
pub const DEFAULT_UNKNOWN_LIFETIME_INTERVAL_MS: u32 = 600_000;

/// When the manager renews a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RenewalPolicy {
    /// Renew once this little of the projected lifetime is left, in
    /// milliseconds. Capped at half the session's stated duration, so that
    /// short sessions are not renewed before every call. `0` renews only
    /// after the projected timeout, by logging in again.
    pub margin_ms: u32,
    /// When responses state no `sessiontimeout`, renew this long after the
    /// last response, in milliseconds. `0` renews before every call.
    pub unknown_lifetime_interval_ms: u32,
}

impl RenewalPolicy {
    /// [`DEFAULT_RENEWAL_MARGIN_MS`] and
    /// [`DEFAULT_UNKNOWN_LIFETIME_INTERVAL_MS`].
    pub const DEFAULT: Self = Self {
        margin_ms: DEFAULT_RENEWAL_MARGIN_MS,
        unknown_lifetime_interval_ms: DEFAULT_UNKNOWN_LIFETIME_INTERVAL_MS,
    };

    /// Projects what a session with `lifetime` needs at clock reading
    /// `now_ms`.
    ///
    /// A stated duration of zero or less is no information, so it is
    /// treated as an unknown lifetime.
    pub fn renewal(&self, lifetime: &Lifetime, now_ms: u64) -> Renewal {
        let duration_ms = lifetime
            .duration_s()
            .and_then(|seconds| u64::try_from(seconds).ok())
            .filter(|&seconds| seconds > 0)
            .map(|seconds| seconds.saturating_mul(1000));
        if let (Some(duration_ms), Some(remaining_ms)) =
            (duration_ms, lifetime.remaining_ms(now_ms))
        {
            if remaining_ms == 0 {
                return Renewal::Expired;
            }
            let margin_ms = u64::from(self.margin_ms).min(duration_ms / 2);
            return if remaining_ms <= margin_ms {
                Renewal::Due
            } else {
                Renewal::NotDue
            };
        }
        let interval_ms = u64::from(self.unknown_lifetime_interval_ms);
        match lifetime.received_at_ms {
            Some(at) if now_ms.saturating_sub(at) < interval_ms => Renewal::NotDue,
            _ => Renewal::Due,
        }
    }
}

impl Default for RenewalPolicy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The action a session needs before its next use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Renewal {
    /// Use it as it is.
    NotDue,
    /// Renew it first: it is within the margin of its projected timeout,
    /// or its lifetime is unknown and the interval has passed.
    Due,
    /// The projected timeout has passed, so a new login is needed.
    Expired,
}

/// Counts of what the manager did, for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Stats {
    /// Sessions obtained with the login credentials.
    pub logins: u32,
    /// Renewals: `<getAPISession/>` under session authentication.
    pub renewals: u32,
    /// Successful entity and top-level switches.
    pub switches: u32,
    /// Sessions the gateway rejected as invalid or expired.
    pub rejections: u32,
}

/// An error from a session manager operation.
///
/// `E` is the transport's connect error.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ManagerError<E> {
    /// A login, renewal, switch or call failed.
    /// [`ManagerError::gateway_error`] returns the gateway's own error.
    Client(ClientError<E>),
    /// There is no session and no login credentials to get one: the
    /// gateway rejected the session of a manager built from a session, or
    /// [`SessionManager::forget`] dropped it.
    NoSession,
    /// An entity id is longer than [`LOCATION_ID_CAPACITY`] bytes.
    Capacity(CapacityError),
}

impl<E> ManagerError<E> {
    /// Returns the gateway's error, when the failure is one the gateway
    /// reported.
    pub fn gateway_error(&self) -> Option<&GatewayError> {
        match self {
            Self::Client(error) => error.gateway_error(),
            Self::NoSession | Self::Capacity(_) => None,
        }
    }

    /// Returns whether the gateway rejected a session or a login at the
    /// authentication layer.
    pub fn is_authentication_failure(&self) -> bool {
        match self {
            Self::Client(error) => is_session_rejected(error),
            Self::NoSession | Self::Capacity(_) => false,
        }
    }
}

impl<E> From<ClientError<E>> for ManagerError<E> {
    fn from(error: ClientError<E>) -> Self {
        Self::Client(error)
    }
}

impl<E: fmt::Display> fmt::Display for ManagerError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Client(error) => fmt::Display::fmt(error, f),
            Self::NoSession => f.write_str(
                "no session and no login credentials to get one; give the manager a new session with SessionManager::set_session",
            ),
            Self::Capacity(error) => fmt::Display::fmt(error, f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for ManagerError<E> {}

/// The level the caller asked for, restored after every new login.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// Whatever the login gives.
    Login,
    /// The top level, asked for with an empty `locationid`.
    TopLevel,
    /// An entity.
    Entity(heapless::String<LOCATION_ID_CAPACITY>),
}

/// A client with one cached session that it keeps alive.
///
/// See the [module documentation](self) for the lifecycle and policy.
pub struct SessionManager<'a, T: Transport, M: Timer, I: ControlIdSource> {
    client: Client<'a, T, M, I>,
    login_endpoint: &'a str,
    login: Option<Login<'a>>,
    policy: RenewalPolicy,
    session: Option<Session>,
    target: Target,
    stats: Stats,
}

impl<'a, T: Transport, M: Timer, I: ControlIdSource> SessionManager<'a, T, M, I> {
    /// Creates a manager that logs in with `login` at `login_endpoint` (the
    /// gateway URL, such as
    /// [`DEFAULT_ENDPOINT`](crate::endpoint::DEFAULT_ENDPOINT)). Nothing is
    /// sent until the first call.
    pub fn new(
        client: Client<'a, T, M, I>,
        login_endpoint: &'a str,
        login: Login<'a>,
        policy: RenewalPolicy,
    ) -> Self {
        Self {
            client,
            login_endpoint,
            login: Some(login),
            policy,
            session: None,
            target: Target::Login,
            stats: Stats::default(),
        }
    }

    /// Creates a manager for an existing session, without login
    /// credentials. It renews the session while the gateway accepts it and
    /// returns the gateway's error once it does not.
    pub fn with_session(
        client: Client<'a, T, M, I>,
        session: Session,
        policy: RenewalPolicy,
    ) -> Self {
        Self {
            client,
            login_endpoint: "",
            login: None,
            policy,
            session: Some(session),
            target: Target::Login,
            stats: Stats::default(),
        }
    }

    /// Creates a manager for a bare session id and the endpoint it belongs
    /// to, such as ones kept across a reboot. The lifetime is unknown until
    /// the first response states it.
    pub fn from_session_id(
        client: Client<'a, T, M, I>,
        session_id: &str,
        endpoint_url: &str,
        policy: RenewalPolicy,
    ) -> Result<Self, CapacityError> {
        let session_id = SessionId::new(session_id)?;
        let mut endpoint = EndpointUrl::new();
        endpoint.push_str(endpoint_url).map_err(|_| CapacityError {
            field: "endpoint",
            capacity: ENDPOINT_CAPACITY,
        })?;
        let session = Session {
            session_id,
            endpoint,
            location: Location::Unstated,
            user_id: heapless::String::new(),
            company_id: heapless::String::new(),
            lifetime: Lifetime {
                session_timestamp: None,
                session_timeout: None,
                received_at_ms: Some(client.timer().now_ms()),
            },
        };
        Ok(Self::with_session(client, session, policy))
    }

    /// Returns the cached session, without checking or renewing it.
    pub fn current(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// Logs in or renews as the policy requires, then returns the cached
    /// session.
    pub fn session(
        &mut self,
        buffers: &mut Buffers<'_>,
    ) -> Result<&Session, ManagerError<T::Error>> {
        self.ensure(buffers)?;
        self.session.as_ref().ok_or(ManagerError::NoSession)
    }

    /// Calls `function` with the session, renewing or logging in first as
    /// the policy requires.
    ///
    /// When the gateway rejects the session, the manager logs in again
    /// and sends the call once more, unless this call already logged in or
    /// the manager has no login credentials. A function that fails comes
    /// back as a [`CallResult`] with its status and errors.
    pub fn call<'b, F: Function>(
        &mut self,
        function: F,
        buffers: &'b mut Buffers<'_>,
    ) -> Result<CallResult<'b>, ManagerError<T::Error>> {
        let logged_in = self.ensure(buffers)?;
        let receipt = match self.call_once(&function, buffers) {
            Ok(receipt) => receipt,
            Err(ManagerError::Client(error))
                if is_session_rejected(&error) && self.login.is_some() && !logged_in =>
            {
                warn!(
                    "gateway rejected the session of {}; logging in again and retrying once",
                    function.name()
                );
                self.log_in_once(buffers)?;
                self.call_once(&function, buffers)?
            }
            Err(error) => return Err(error),
        };
        // The result is parsed again from the buffer: a borrow of the first
        // attempt's result could not be returned while the buffer might
        // still be needed for the retry.
        let body: &'b [u8] = buffers.body;
        CallResult::reread(body, receipt).map_err(|error| ManagerError::Client(error.into()))
    }

    /// Switches to entity `location_id` by requesting its session from the
    /// current one (`getAPISession` with `locationid`). Later logins go
    /// straight to this entity.
    ///
    /// A user without access to the entity gets the gateway's error, and
    /// the current session stays in use.
    pub fn switch_to_entity(
        &mut self,
        location_id: &str,
        buffers: &mut Buffers<'_>,
    ) -> Result<&Session, ManagerError<T::Error>> {
        let mut entity = heapless::String::new();
        entity.push_str(location_id).map_err(|_| {
            ManagerError::Capacity(CapacityError {
                field: "locationid",
                capacity: LOCATION_ID_CAPACITY,
            })
        })?;
        self.switch(Target::Entity(entity), buffers)
    }

    /// Switches to the top level by requesting a session with an empty
    /// `locationid` from the current one. Later logins return to the top
    /// level.
    ///
    /// A user restricted to entities gets the gateway's error, and the
    /// current session stays in use.
    pub fn switch_to_top_level(
        &mut self,
        buffers: &mut Buffers<'_>,
    ) -> Result<&Session, ManagerError<T::Error>> {
        self.switch(Target::TopLevel, buffers)
    }

    /// Renews the session now, regardless of the policy. Logs in instead
    /// when there is no session or the gateway rejects it.
    pub fn renew(&mut self, buffers: &mut Buffers<'_>) -> Result<&Session, ManagerError<T::Error>> {
        if self.session.is_some() {
            self.renew_or_log_in(buffers)?;
        } else {
            self.log_in_once(buffers)?;
        }
        self.session.as_ref().ok_or(ManagerError::NoSession)
    }

    /// Logs in now and replaces the cached session.
    pub fn log_in(
        &mut self,
        buffers: &mut Buffers<'_>,
    ) -> Result<&Session, ManagerError<T::Error>> {
        self.log_in_once(buffers)?;
        self.session.as_ref().ok_or(ManagerError::NoSession)
    }

    /// Replaces the cached session, such as with one obtained elsewhere.
    /// The level the manager returns to after a login is unchanged.
    pub fn set_session(&mut self, session: Session) {
        self.session = Some(session);
    }

    /// Drops the cached session. The next call logs in, or fails with
    /// [`ManagerError::NoSession`] without login credentials.
    pub fn forget(&mut self) {
        self.session = None;
    }

    /// Returns the counts of what the manager has done so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Returns the renewal policy.
    pub fn policy(&self) -> &RenewalPolicy {
        &self.policy
    }

    /// Returns the client, for its settings and timer.
    pub fn client(&self) -> &Client<'a, T, M, I> {
        &self.client
    }

    /// Returns the client, for calls outside the manager.
    pub fn client_mut(&mut self) -> &mut Client<'a, T, M, I> {
        &mut self.client
    }

    /// Gives the client back, dropping the cached session.
    pub fn into_client(self) -> Client<'a, T, M, I> {
        self.client
    }

    /// Makes sure a session is cached and not due for renewal. Returns
    /// whether it logged in to get there.
    fn ensure(&mut self, buffers: &mut Buffers<'_>) -> Result<bool, ManagerError<T::Error>> {
        let now_ms = self.client.timer().now_ms();
        let renewal = self
            .session
            .as_ref()
            .map(|session| self.policy.renewal(&session.lifetime, now_ms));
        match renewal {
            Some(Renewal::NotDue) => Ok(false),
            Some(Renewal::Due) => self.renew_or_log_in(buffers),
            Some(Renewal::Expired) if self.login.is_some() => {
                info!("session expired by its projected timeout; logging in again");
                self.session = None;
                self.log_in_once(buffers).map(|()| true)
            }
            // Without login credentials the gateway decides: the
            // projection can be early by the network latency.
            Some(Renewal::Expired) => self.renew_or_log_in(buffers),
            None if self.login.is_some() => self.log_in_once(buffers).map(|()| true),
            None => Err(ManagerError::NoSession),
        }
    }

    /// Renews the session, or logs in once when the gateway rejects it.
    /// Returns whether it logged in.
    fn renew_or_log_in(
        &mut self,
        buffers: &mut Buffers<'_>,
    ) -> Result<bool, ManagerError<T::Error>> {
        match self.renew_once(buffers) {
            Ok(()) => Ok(false),
            Err(ManagerError::Client(error))
                if is_session_rejected(&error) && self.login.is_some() =>
            {
                warn!("gateway rejected the session during renewal; logging in again");
                self.log_in_once(buffers).map(|()| true)
            }
            Err(error) => Err(error),
        }
    }

    fn renew_once(&mut self, buffers: &mut Buffers<'_>) -> Result<(), ManagerError<T::Error>> {
        let Some(session) = self.session.as_ref() else {
            return Err(ManagerError::NoSession);
        };
        let renewed = self.client.get_session(
            &session.endpoint,
            Authentication::Session(session.session_id.expose()),
            SessionLocation::Current,
            buffers,
        );
        match renewed {
            Ok(mut renewed) => {
                if renewed.location == Location::Unstated {
                    renewed.location = session.location.clone();
                }
                self.stats.renewals = self.stats.renewals.saturating_add(1);
                info!(
                    "renewed session {} at {}",
                    renewed.session_id, renewed.location
                );
                self.session = Some(renewed);
                Ok(())
            }
            Err(error) => {
                if is_session_rejected(&error) {
                    self.reject();
                }
                Err(error.into())
            }
        }
    }

    /// Logs in at the level the caller last asked for.
    fn log_in_once(&mut self, buffers: &mut Buffers<'_>) -> Result<(), ManagerError<T::Error>> {
        let Some(configured) = self.login else {
            return Err(ManagerError::NoSession);
        };
        let mut login = configured;
        match &self.target {
            Target::Login => {}
            Target::TopLevel => login.location_id = None,
            Target::Entity(id) => login.location_id = Some(id.as_str()),
        }
        let session = self.client.get_session(
            self.login_endpoint,
            Authentication::Login(login),
            SessionLocation::Current,
            buffers,
        )?;
        self.stats.logins = self.stats.logins.saturating_add(1);
        info!(
            "logged in: session {} at {}",
            session.session_id, session.location
        );

        // A login without `locationid` lands at the user's default level,
        // which need not be the top level.
        let session = if self.target == Target::TopLevel && session.location != Location::TopLevel {
            self.session = None;
            self.client.get_session(
                &session.endpoint,
                Authentication::Session(session.session_id.expose()),
                SessionLocation::TopLevel,
                buffers,
            )?
        } else {
            session
        };
        self.session = Some(session);
        Ok(())
    }

    fn call_once<F: Function>(
        &mut self,
        function: F,
        buffers: &mut Buffers<'_>,
    ) -> Result<CallReceipt, ManagerError<T::Error>> {
        let Some(session) = self.session.as_mut() else {
            return Err(ManagerError::NoSession);
        };
        match self.client.call_in_place(session, function, buffers) {
            Ok(receipt) => Ok(receipt),
            Err(error) => {
                if is_session_rejected(&error) {
                    self.reject();
                }
                Err(error.into())
            }
        }
    }

    fn switch(
        &mut self,
        target: Target,
        buffers: &mut Buffers<'_>,
    ) -> Result<&Session, ManagerError<T::Error>> {
        let logged_in = self.ensure(buffers)?;
        let session = match self.switch_once(&target, buffers) {
            Ok(session) => session,
            Err(ManagerError::Client(error))
                if is_session_rejected(&error) && self.login.is_some() && !logged_in =>
            {
                warn!("gateway rejected the session before a switch; logging in again");
                self.log_in_once(buffers)?;
                self.switch_once(&target, buffers)?
            }
            Err(error) => return Err(error),
        };
        self.stats.switches = self.stats.switches.saturating_add(1);
        info!(
            "switched to {}: session {}",
            session.location, session.session_id
        );
        self.target = target;
        Ok(self.session.insert(session))
    }

    fn switch_once(
        &mut self,
        target: &Target,
        buffers: &mut Buffers<'_>,
    ) -> Result<Session, ManagerError<T::Error>> {
        let Some(session) = self.session.as_ref() else {
            return Err(ManagerError::NoSession);
        };
        let location = match target {
            Target::Login => SessionLocation::Current,
            Target::TopLevel => SessionLocation::TopLevel,
            Target::Entity(id) => SessionLocation::Entity(id),
        };
        let switched = self.client.get_session(
            &session.endpoint,
            Authentication::Session(session.session_id.expose()),
            location,
            buffers,
        );
        switched.map_err(|error| {
            if is_session_rejected(&error) {
                self.reject();
            }
            error.into()
        })
    }

    fn reject(&mut self) {
        self.stats.rejections = self.stats.rejections.saturating_add(1);
        if let Some(session) = self.session.take() {
            warn!(
                "gateway rejected session {}; dropping it",
                session.session_id
            );
        }
    }
}

#[cfg(test)]
mod tests;
