//! Senders, companies, entities and users that the simulated gateway accepts.

use std::fmt;
use std::time::Duration;

/// Sender id of the demo setup returned by [`Config::demo`].
pub const DEMO_SENDER_ID: &str = "demo-sender";
/// Sender password of the demo setup.
pub const DEMO_SENDER_PASSWORD: &str = "demo-sender-pass";
/// Company id of the demo setup.
pub const DEMO_COMPANY_ID: &str = "DEMO-CO";
/// First entity of the demo company.
pub const DEMO_ENTITY_EAST: &str = "EAST";
/// Display name of [`DEMO_ENTITY_EAST`], as `readByQuery` on `LOCATION` lists it.
pub const DEMO_ENTITY_EAST_NAME: &str = "East";
/// Second entity of the demo company.
pub const DEMO_ENTITY_WEST: &str = "WEST";
/// Display name of [`DEMO_ENTITY_WEST`].
pub const DEMO_ENTITY_WEST_NAME: &str = "West";
/// Demo user with access to the top level and every entity.
pub const DEMO_USER_ID: &str = "demo-user";
/// Password of [`DEMO_USER_ID`].
pub const DEMO_USER_PASSWORD: &str = "demo-user-pass";
/// Demo user restricted to [`DEMO_ENTITY_EAST`].
pub const RESTRICTED_USER_ID: &str = "east-only";
/// Password of [`RESTRICTED_USER_ID`].
pub const RESTRICTED_USER_PASSWORD: &str = "east-only-pass";

/// Session duration used when a configuration does not set one (30 minutes).
pub const DEFAULT_SESSION_DURATION: Duration = Duration::from_secs(30 * 60);
/// UTC offset of response timestamps when a configuration does not set one
/// (-08:00, Pacific Standard Time).
pub const DEFAULT_UTC_OFFSET_MINUTES: i32 = -8 * 60;
/// Largest UTC offset magnitude accepted, in minutes (18 hours).
pub const MAX_UTC_OFFSET_MINUTES: i32 = 18 * 60;

/// Everything the simulated gateway accepts: Web Services senders, companies
/// with their entities and users, the session duration and the UTC offset of
/// response timestamps.
///
/// Company, user and entity ids match case-insensitively (ASCII), as on the
/// real gateway; sender ids and all passwords match exactly.
#[derive(Clone, Debug)]
pub struct Config {
    /// Web Services senders (`control/senderid` and `control/password`).
    pub senders: Vec<Sender>,
    /// Companies (`login/companyid`) with their entities and users.
    pub companies: Vec<Company>,
    /// How long a session lives after its last use. Whole seconds count; the
    /// sub-second part is ignored. Must be at least one second.
    pub session_duration: Duration,
    /// UTC offset of `sessiontimestamp` and `sessiontimeout`, in minutes east
    /// of UTC (-480 for -08:00). At most [`MAX_UTC_OFFSET_MINUTES`] in magnitude.
    pub utc_offset_minutes: i32,
}

impl Config {
    /// Creates an empty configuration with the default session duration and
    /// UTC offset. Add senders and companies before starting a simulator.
    pub fn new() -> Self {
        Config {
            senders: Vec::new(),
            companies: Vec::new(),
            session_duration: DEFAULT_SESSION_DURATION,
            utc_offset_minutes: DEFAULT_UTC_OFFSET_MINUTES,
        }
    }

    /// Creates the demo setup: sender [`DEMO_SENDER_ID`] /
    /// [`DEMO_SENDER_PASSWORD`], company [`DEMO_COMPANY_ID`] with entities
    /// [`DEMO_ENTITY_EAST`] ("East") and [`DEMO_ENTITY_WEST`] ("West"), user
    /// [`DEMO_USER_ID`] / [`DEMO_USER_PASSWORD`] with access everywhere, and
    /// user [`RESTRICTED_USER_ID`] / [`RESTRICTED_USER_PASSWORD`] restricted
    /// to `EAST`. Sessions last 30 minutes and timestamps use -08:00.
    pub fn demo() -> Self {
        Config::new()
            .with_sender(Sender::new(DEMO_SENDER_ID, DEMO_SENDER_PASSWORD))
            .with_company(
                Company::new(DEMO_COMPANY_ID)
                    .with_entity(Entity::new(DEMO_ENTITY_EAST, DEMO_ENTITY_EAST_NAME))
                    .with_entity(Entity::new(DEMO_ENTITY_WEST, DEMO_ENTITY_WEST_NAME))
                    .with_user(User::new(DEMO_USER_ID, DEMO_USER_PASSWORD))
                    .with_user(
                        User::new(RESTRICTED_USER_ID, RESTRICTED_USER_PASSWORD)
                            .restricted_to([DEMO_ENTITY_EAST]),
                    ),
            )
    }

    /// Adds a sender.
    pub fn with_sender(mut self, sender: Sender) -> Self {
        self.senders.push(sender);
        self
    }

    /// Adds a company.
    pub fn with_company(mut self, company: Company) -> Self {
        self.companies.push(company);
        self
    }

    /// Sets the session duration.
    pub fn with_session_duration(mut self, duration: Duration) -> Self {
        self.session_duration = duration;
        self
    }

    /// Sets the UTC offset of response timestamps, in minutes east of UTC.
    pub fn with_utc_offset_minutes(mut self, minutes: i32) -> Self {
        self.utc_offset_minutes = minutes;
        self
    }

    /// Checks the configuration: at least one sender, no duplicate ids, every
    /// user restriction naming at least one entity of its company, a session
    /// duration of at least one second and a UTC offset within
    /// [`MAX_UTC_OFFSET_MINUTES`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.senders.is_empty() {
            return Err(ConfigError::new(
                "senders is empty: add at least one Sender, or requests can never pass the control layer",
            ));
        }
        for (index, sender) in self.senders.iter().enumerate() {
            if self.senders[..index]
                .iter()
                .any(|other| other.id == sender.id)
            {
                return Err(ConfigError::new(format!(
                    "sender id {:?} appears twice: give each sender a distinct id",
                    sender.id
                )));
            }
        }
        for (index, company) in self.companies.iter().enumerate() {
            if self.companies[..index]
                .iter()
                .any(|other| other.id.eq_ignore_ascii_case(&company.id))
            {
                return Err(ConfigError::new(format!(
                    "company id {:?} appears twice (ids match case-insensitively)",
                    company.id
                )));
            }
            company.validate()?;
        }
        if self.session_duration.as_secs() == 0 {
            return Err(ConfigError::new(format!(
                "session_duration is {:?}: use at least one second",
                self.session_duration
            )));
        }
        check_utc_offset(self.utc_offset_minutes)
    }

    /// Finds a company by id, ignoring ASCII case.
    pub(crate) fn company_index(&self, id: &str) -> Option<usize> {
        self.companies
            .iter()
            .position(|company| company.id.eq_ignore_ascii_case(id))
    }
}

impl Default for Config {
    /// Same as [`Config::demo`], so a default simulator accepts the demo
    /// credentials.
    fn default() -> Self {
        Config::demo()
    }
}

/// Checks that a UTC offset is within [`MAX_UTC_OFFSET_MINUTES`].
pub(crate) fn check_utc_offset(minutes: i32) -> Result<(), ConfigError> {
    if minutes.unsigned_abs() > MAX_UTC_OFFSET_MINUTES.unsigned_abs() {
        return Err(ConfigError::new(format!(
            "utc_offset_minutes is {minutes}: use a value between -{MAX_UTC_OFFSET_MINUTES} and {MAX_UTC_OFFSET_MINUTES}"
        )));
    }
    Ok(())
}

/// A Web Services sender: the partner credentials in the `control` element.
#[derive(Clone)]
pub struct Sender {
    /// Sender id (`control/senderid`), matched exactly.
    pub id: String,
    /// Sender password (`control/password`), matched exactly.
    pub password: String,
}

impl Sender {
    /// Creates a sender.
    pub fn new(id: impl Into<String>, password: impl Into<String>) -> Self {
        Sender {
            id: id.into(),
            password: password.into(),
        }
    }
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("id", &self.id)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A company with its entities and users.
#[derive(Clone, Debug)]
pub struct Company {
    /// Company id (`login/companyid`). Any string, such as
    /// `CONSOLE|CLIENT|ENTITY`, is taken whole.
    pub id: String,
    /// Entities in the order `readByQuery` lists them. An empty list makes a
    /// single-entity company where only the top level exists.
    pub entities: Vec<Entity>,
    /// Users who can sign in to this company.
    pub users: Vec<User>,
}

impl Company {
    /// Creates a company without entities or users.
    pub fn new(id: impl Into<String>) -> Self {
        Company {
            id: id.into(),
            entities: Vec::new(),
            users: Vec::new(),
        }
    }

    /// Adds an entity.
    pub fn with_entity(mut self, entity: Entity) -> Self {
        self.entities.push(entity);
        self
    }

    /// Adds a user.
    pub fn with_user(mut self, user: User) -> Self {
        self.users.push(user);
        self
    }

    fn validate(&self) -> Result<(), ConfigError> {
        for (index, entity) in self.entities.iter().enumerate() {
            if entity.id.is_empty() {
                return Err(ConfigError::new(format!(
                    "company {:?} has an entity with an empty id: an empty location id means the top level",
                    self.id
                )));
            }
            if self.entities[..index]
                .iter()
                .any(|other| other.id.eq_ignore_ascii_case(&entity.id))
            {
                return Err(ConfigError::new(format!(
                    "company {:?} lists entity {:?} twice (ids match case-insensitively)",
                    self.id, entity.id
                )));
            }
        }
        for (index, user) in self.users.iter().enumerate() {
            if self.users[..index]
                .iter()
                .any(|other| other.id.eq_ignore_ascii_case(&user.id))
            {
                return Err(ConfigError::new(format!(
                    "company {:?} lists user {:?} twice (ids match case-insensitively)",
                    self.id, user.id
                )));
            }
            if let Some(allowed) = &user.restricted_to {
                if allowed.is_empty() {
                    return Err(ConfigError::new(format!(
                        "user {:?} of company {:?} is restricted to no entity: list at least one, or use None for full access",
                        user.id, self.id
                    )));
                }
                for entity in allowed {
                    if self.entity_index(entity).is_none() {
                        return Err(ConfigError::new(format!(
                            "user {:?} of company {:?} is restricted to entity {:?}, which the company does not have",
                            user.id, self.id, entity
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// Finds an entity by id, ignoring ASCII case.
    pub(crate) fn entity_index(&self, id: &str) -> Option<usize> {
        self.entities
            .iter()
            .position(|entity| entity.id.eq_ignore_ascii_case(id))
    }

    /// Finds a user by id, ignoring ASCII case.
    pub(crate) fn user_index(&self, id: &str) -> Option<usize> {
        self.users
            .iter()
            .position(|user| user.id.eq_ignore_ascii_case(id))
    }
}

/// An entity (a location at entity level) of a multi-entity company.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entity {
    /// Location id, as sent in `locationid` and returned in responses.
    pub id: String,
    /// Display name, returned as `NAME` by `readByQuery` on `LOCATION`.
    pub name: String,
}

impl Entity {
    /// Creates an entity.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Entity {
            id: id.into(),
            name: name.into(),
        }
    }
}

/// A company user.
#[derive(Clone)]
pub struct User {
    /// User id (`login/userid`).
    pub id: String,
    /// Password (`login/password`), matched exactly.
    pub password: String,
    /// Entities this user is limited to, or `None` for access to the top
    /// level and every entity. A restricted user cannot get a top-level
    /// session, and a login without a location id puts such a user in the
    /// first entity of this list.
    pub restricted_to: Option<Vec<String>>,
}

impl User {
    /// Creates a user with access to the top level and every entity.
    pub fn new(id: impl Into<String>, password: impl Into<String>) -> Self {
        User {
            id: id.into(),
            password: password.into(),
            restricted_to: None,
        }
    }

    /// Restricts the user to the given entities.
    pub fn restricted_to<I, S>(mut self, entities: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.restricted_to = Some(entities.into_iter().map(Into::into).collect());
        self
    }

    /// Tells whether this user may work in the entity `id` (ASCII case ignored).
    pub(crate) fn may_use_entity(&self, id: &str) -> bool {
        match &self.restricted_to {
            None => true,
            Some(allowed) => allowed.iter().any(|entity| entity.eq_ignore_ascii_case(id)),
        }
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("password", &"<redacted>")
            .field("restricted_to", &self.restricted_to)
            .finish()
    }
}

/// An invalid [`Config`], with a message that names the field and the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    message: String,
}

impl ConfigError {
    fn new(message: impl Into<String>) -> Self {
        ConfigError {
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid simulator config: {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_config_is_valid() {
        assert_eq!(Config::demo().validate(), Ok(()));
    }

    #[test]
    fn restriction_to_unknown_entity_rejected() {
        let config = Config::new()
            .with_sender(Sender::new("s", "p"))
            .with_company(
                Company::new("CO")
                    .with_entity(Entity::new("A", "A"))
                    .with_user(User::new("u", "p").restricted_to(["B"])),
            );
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("\"B\""), "{error}");
    }

    #[test]
    fn empty_restriction_rejected() {
        let config = Config::new()
            .with_sender(Sender::new("s", "p"))
            .with_company(
                Company::new("CO")
                    .with_user(User::new("u", "p").restricted_to(Vec::<String>::new())),
            );
        assert!(config.validate().is_err());
    }

    #[test]
    fn zero_session_duration_rejected() {
        let config = Config::demo().with_session_duration(Duration::from_millis(500));
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("session_duration"), "{error}");
    }

    #[test]
    fn offset_out_of_range_rejected() {
        let config = Config::demo().with_utc_offset_minutes(19 * 60);
        assert!(config.validate().is_err());
    }

    #[test]
    fn duplicate_company_rejected() {
        let config = Config::demo().with_company(Company::new("demo-co"));
        assert!(config.validate().is_err());
    }

    #[test]
    fn debug_hides_passwords() {
        let text = format!("{:?}", Config::demo());
        assert!(!text.contains(DEMO_USER_PASSWORD), "{text}");
        assert!(!text.contains(DEMO_SENDER_PASSWORD), "{text}");
        assert!(text.contains(DEMO_USER_ID), "{text}");
    }
}
