//! Intacct credentials from code, environment variables and the profile
//! file, resolved the way the official Intacct SDKs resolve them.
//!
//! # Sources and precedence
//!
//! The rules below follow `SenderCredentials`, `LoginCredentials`,
//! `Endpoint`, `ProfileCredentialProvider` and `AbstractClient` in the
//! Sage Intacct SDKs for PHP (`src/Intacct/Credentials/*.php`,
//! `src/Intacct/AbstractClient.php`) and .NET
//! (`Intacct.SDK/Credentials/*.cs`, `Intacct.SDK/AbstractClient.cs`), which
//! agree on them. An empty value counts as not set everywhere.
//!
//! 1. **Profile name**: [`CredentialsConfig::profile_name`], else
//!    `INTACCT_PROFILE`, else `INTACCT_SENDER_PROFILE`, else `default`.
//!    The SDKs also define `INTACCT_COMPANY_PROFILE`, but it never takes
//!    effect there because the sender step has already chosen a name, so it
//!    is not read here.
//! 2. **Profile file**: [`CredentialsConfig::profile_file`], else
//!    `.intacct/credentials.ini` under the home directory. [`Credentials::load`]
//!    takes the home directory from `HOME`, else `HOMEDRIVE` + `HOMEPATH`.
//! 3. **Sender credentials** (`sender_id`, `sender_password`): each field
//!    from [`CredentialsConfig`], else its environment variable. The
//!    profile is read for them only when *neither* field is set by then,
//!    and then supplies both. Precedence is per group, not per field: with
//!    `INTACCT_SENDER_ID` set, a `sender_password` in the profile is
//!    ignored.
//! 4. **Login credentials** (`company_id`, `user_id`, `user_password`): the
//!    same rule as a group of three. `entity_id` is optional: it comes from
//!    the config, else `INTACCT_ENTITY_ID`, but when the login group is read
//!    from the profile, a non-empty `entity_id` there replaces it.
//! 5. **Endpoint URL**: [`CredentialsConfig::endpoint_url`], else the
//!    profile's `endpoint_url` when the sender credentials came from the
//!    profile, else `INTACCT_ENDPOINT_URL`, else `None` (the client's
//!    default endpoint).
//!
//! The profile file is read only when a group needs it, and a missing file
//! is not an error by itself: the error names the field that stayed unset.
//! A profile name with no matching section in an existing file is an error,
//! as in the SDKs.
//!
//! Two choices differ from the SDKs on purpose. Both return `Ok(None)` in
//! place of an error when nothing at all is configured, and the file parser
//! is this crate's own (see the INI rules below).
//!
//! # Profile file format
//!
//! `[profile]` sections with `key = value` lines, keys `sender_id`,
//! `sender_password`, `company_id`, `entity_id`, `user_id`,
//! `user_password` and `endpoint_url`. Lines starting with `;` or `#` are
//! comments. A value may be wrapped in `"` or `'`. Everything after the `=`
//! belongs to the value, so passwords may contain `;` and `#`. Section
//! names and keys compare case-insensitively. A UTF-8 byte order mark and
//! CRLF line ends are accepted. A key set twice in one profile is an error.
//!
//! The endpoint URL is passed through unchecked; the client core validates
//! it.

mod ini;

use core::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Environment variable names read by [`Credentials::load`].
pub mod env {
    /// Web services sender ID.
    pub const SENDER_ID: &str = "INTACCT_SENDER_ID";
    /// Web services sender password.
    pub const SENDER_PASSWORD: &str = "INTACCT_SENDER_PASSWORD";
    /// Company ID.
    pub const COMPANY_ID: &str = "INTACCT_COMPANY_ID";
    /// Entity ID (optional).
    pub const ENTITY_ID: &str = "INTACCT_ENTITY_ID";
    /// Web services user ID.
    pub const USER_ID: &str = "INTACCT_USER_ID";
    /// Web services user password.
    pub const USER_PASSWORD: &str = "INTACCT_USER_PASSWORD";
    /// Gateway endpoint URL (optional).
    pub const ENDPOINT_URL: &str = "INTACCT_ENDPOINT_URL";
    /// Profile name in the credentials file.
    pub const PROFILE: &str = "INTACCT_PROFILE";
    /// Profile name, read when [`PROFILE`] is not set (as the SDKs'
    /// sender credentials do).
    pub const SENDER_PROFILE: &str = "INTACCT_SENDER_PROFILE";
    /// Home directory, where the profile file lives.
    pub const HOME: &str = "HOME";
    /// Windows home drive, joined with [`HOMEPATH`] when [`HOME`] is not set.
    pub const HOMEDRIVE: &str = "HOMEDRIVE";
    /// Windows home path, joined with [`HOMEDRIVE`] when [`HOME`] is not set.
    pub const HOMEPATH: &str = "HOMEPATH";
}

/// The profile file's path relative to the home directory.
pub const PROFILE_FILE: &str = ".intacct/credentials.ini";

/// The profile read when no profile name is configured.
pub const DEFAULT_PROFILE: &str = "default";

/// Complete credentials for a `getAPISession` login.
///
/// `Debug` prints `<redacted>` in place of both passwords.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Web services sender ID.
    pub sender_id: String,
    /// Web services sender password.
    pub sender_password: String,
    /// Company ID.
    pub company_id: String,
    /// Entity ID to log in to, or `None` for the user's default level.
    pub entity_id: Option<String>,
    /// Web services user ID.
    pub user_id: String,
    /// Web services user password.
    pub user_password: String,
    /// Gateway URL, or `None` for the client's default endpoint.
    pub endpoint_url: Option<String>,
}

const REDACTED: &str = "<redacted>";

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("sender_id", &self.sender_id)
            .field("sender_password", &REDACTED)
            .field("company_id", &self.company_id)
            .field("entity_id", &self.entity_id)
            .field("user_id", &self.user_id)
            .field("user_password", &REDACTED)
            .field("endpoint_url", &self.endpoint_url)
            .finish()
    }
}

/// Values set in code. Each set field beats the environment and the
/// profile file, as an SDK's `ClientConfig` does.
///
/// `Debug` prints `<redacted>` in place of set passwords.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CredentialsConfig {
    /// Sender ID.
    pub sender_id: Option<String>,
    /// Sender password.
    pub sender_password: Option<String>,
    /// Company ID.
    pub company_id: Option<String>,
    /// Entity ID.
    pub entity_id: Option<String>,
    /// User ID.
    pub user_id: Option<String>,
    /// User password.
    pub user_password: Option<String>,
    /// Gateway URL.
    pub endpoint_url: Option<String>,
    /// Profile name, in place of `INTACCT_PROFILE` and `default`.
    pub profile_name: Option<String>,
    /// Profile file, in place of `~/.intacct/credentials.ini`.
    pub profile_file: Option<PathBuf>,
}

impl fmt::Debug for CredentialsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |value: &Option<String>| value.as_ref().map(|_| REDACTED);
        f.debug_struct("CredentialsConfig")
            .field("sender_id", &self.sender_id)
            .field("sender_password", &redact(&self.sender_password))
            .field("company_id", &self.company_id)
            .field("entity_id", &self.entity_id)
            .field("user_id", &self.user_id)
            .field("user_password", &redact(&self.user_password))
            .field("endpoint_url", &self.endpoint_url)
            .field("profile_name", &self.profile_name)
            .field("profile_file", &self.profile_file)
            .finish()
    }
}

impl CredentialsConfig {
    /// Returns `true` when no field is set to a non-empty value.
    fn is_empty(&self) -> bool {
        let strings = [
            &self.sender_id,
            &self.sender_password,
            &self.company_id,
            &self.entity_id,
            &self.user_id,
            &self.user_password,
            &self.endpoint_url,
            &self.profile_name,
        ];
        strings.iter().all(|value| non_empty(value).is_none())
            && self
                .profile_file
                .as_ref()
                .is_none_or(|path| path.as_os_str().is_empty())
    }
}

/// An error from loading credentials.
#[derive(Debug)]
#[non_exhaustive]
pub enum CredentialsError {
    /// A required field is set nowhere.
    Missing {
        /// The profile file key, such as `user_password`.
        key: &'static str,
        /// The environment variable, such as `INTACCT_USER_PASSWORD`.
        env_var: &'static str,
        /// The reason the profile file did not supply it.
        reason: MissingReason,
    },
    /// The profile file exists but has no section for the profile.
    ProfileNotFound {
        /// The profile name that was looked up.
        profile: String,
        /// The profile file.
        path: PathBuf,
        /// The sections the file has.
        available: Vec<String>,
    },
    /// The profile file exists but could not be read.
    ReadProfileFile {
        /// The profile file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The profile file has a syntax error.
    InvalidProfileFile {
        /// The profile file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// The problem with the line, without quoting the line.
        reason: String,
    },
}

/// The reason the profile file did not supply a missing field.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MissingReason {
    /// The profile was read but has no non-empty value for the key.
    ProfileLacksKey {
        /// The profile name.
        profile: String,
        /// The profile file.
        path: PathBuf,
    },
    /// The profile was not read for this group of fields because another
    /// field of the group was set, as in the SDKs.
    ProfileSkipped {
        /// The source of the other field, such as `INTACCT_SENDER_ID`.
        set_by: String,
        /// The group's fields, such as `INTACCT_SENDER_ID and INTACCT_SENDER_PASSWORD`.
        group: &'static str,
    },
    /// The profile file does not exist.
    NoProfileFile {
        /// The path that was checked.
        path: PathBuf,
    },
    /// No profile file was given and no home directory is known.
    NoHomeDirectory,
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialsError::Missing {
                key,
                env_var,
                reason,
            } => match reason {
                MissingReason::ProfileLacksKey { profile, path } => write!(
                    f,
                    "{env_var} is not set and profile [{profile}] in {} has no {key}",
                    path.display()
                ),
                MissingReason::ProfileSkipped { set_by, group } => write!(
                    f,
                    "{env_var} is not set; the profile file is not read for {group} because {set_by} is set, so set {env_var} too or unset {set_by}"
                ),
                MissingReason::NoProfileFile { path } => write!(
                    f,
                    "{env_var} is not set and the profile file {} does not exist",
                    path.display()
                ),
                MissingReason::NoHomeDirectory => write!(
                    f,
                    "{env_var} is not set and no profile file was read because the home directory is unknown; set HOME"
                ),
            },
            CredentialsError::ProfileNotFound {
                profile,
                path,
                available,
            } => {
                write!(f, "profile [{profile}] not found in {}; ", path.display())?;
                if available.is_empty() {
                    f.write_str("the file has no sections")
                } else {
                    write!(
                        f,
                        "it has [{}]; set INTACCT_PROFILE to one of them",
                        available.join("], [")
                    )
                }
            }
            CredentialsError::ReadProfileFile { path, source } => write!(
                f,
                "failed to read the profile file {}: {source}",
                path.display()
            ),
            CredentialsError::InvalidProfileFile { path, line, reason } => write!(
                f,
                "invalid profile file {}, line {line}: {reason}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for CredentialsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CredentialsError::ReadProfileFile { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Returns the home directory the SDKs use: `HOME`, else `HOMEDRIVE`
/// followed by `HOMEPATH`.
pub fn home_dir_from(env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(home) = env(env::HOME).filter(|value| !value.is_empty()) {
        return Some(PathBuf::from(home));
    }
    let drive = env(env::HOMEDRIVE).filter(|value| !value.is_empty())?;
    let path = env(env::HOMEPATH).filter(|value| !value.is_empty())?;
    Some(PathBuf::from(format!("{drive}{path}")))
}

impl Credentials {
    /// Loads credentials from the process environment and
    /// `~/.intacct/credentials.ini`.
    ///
    /// Returns `Ok(None)` when nothing is configured: no `INTACCT_*`
    /// variable is set and the profile file does not exist. See the
    /// [module documentation](self) for the precedence rules.
    ///
    /// # Errors
    ///
    /// A [`CredentialsError`] naming the missing variable and profile key,
    /// or the profile file's problem, when credentials are partly
    /// configured.
    pub fn load() -> Result<Option<Credentials>, CredentialsError> {
        let env = |name: &str| std::env::var(name).ok();
        let home = home_dir_from(env);
        Self::load_from(env, home.as_deref())
    }

    /// Loads credentials from `env` and the profile file under `home`, with
    /// the rules of [`load`](Self::load).
    ///
    /// `env` returns a variable's value, or `None` when it is not set.
    /// `home` is the home directory, or `None` when none is known.
    ///
    /// # Errors
    ///
    /// As for [`load`](Self::load).
    pub fn load_from(
        env: impl Fn(&str) -> Option<String>,
        home: Option<&Path>,
    ) -> Result<Option<Credentials>, CredentialsError> {
        Self::load_with(&CredentialsConfig::default(), env, home)
    }

    /// Loads credentials with `config` taking precedence over `env` and the
    /// profile file under `home`.
    ///
    /// # Errors
    ///
    /// As for [`load`](Self::load).
    pub fn load_with(
        config: &CredentialsConfig,
        env: impl Fn(&str) -> Option<String>,
        home: Option<&Path>,
    ) -> Result<Option<Credentials>, CredentialsError> {
        let var = |name: &str| env(name).filter(|value| !value.is_empty());

        let profile_name = non_empty(&config.profile_name)
            .map(str::to_owned)
            .or_else(|| var(env::PROFILE))
            .or_else(|| var(env::SENDER_PROFILE))
            .unwrap_or_else(|| DEFAULT_PROFILE.to_owned());
        let profile_path = match &config.profile_file {
            Some(path) if !path.as_os_str().is_empty() => Some(path.clone()),
            _ => home.map(|home| home.join(PROFILE_FILE)),
        };

        if config.is_empty()
            && !ALL_VARIABLES.iter().any(|name| var(name).is_some())
            && !profile_path.as_deref().is_some_and(file_may_exist)
        {
            log::debug!("no Intacct credentials configured");
            return Ok(None);
        }

        let mut profile = Profile::new(profile_name, profile_path);
        let sender = resolve_group(config, &var, &mut profile, &SENDER_GROUP)?;
        let login = resolve_group(config, &var, &mut profile, &LOGIN_GROUP)?;
        let [sender_id, sender_password] = sender.values;
        let [company_id, user_id, user_password] = login.values;

        // The profile's endpoint_url counts only when the sender credentials
        // came from the profile.
        let endpoint_url = non_empty(&config.endpoint_url)
            .map(str::to_owned)
            .or(sender.extra)
            .or_else(|| var(env::ENDPOINT_URL));
        // A profile entity_id replaces the config and environment value when
        // the login credentials came from the profile.
        let entity_id = login.extra.or_else(|| {
            non_empty(&config.entity_id)
                .map(str::to_owned)
                .or_else(|| var(env::ENTITY_ID))
        });

        log::debug!(
            "loaded Intacct credentials: sender from {}, login from {}",
            sender.origin,
            login.origin
        );
        Ok(Some(Credentials {
            sender_id,
            sender_password,
            company_id,
            entity_id,
            user_id,
            user_password,
            endpoint_url,
        }))
    }
}

/// Every environment variable whose presence means "configured".
const ALL_VARIABLES: [&str; 9] = [
    env::SENDER_ID,
    env::SENDER_PASSWORD,
    env::COMPANY_ID,
    env::ENTITY_ID,
    env::USER_ID,
    env::USER_PASSWORD,
    env::ENDPOINT_URL,
    env::PROFILE,
    env::SENDER_PROFILE,
];

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|value| !value.is_empty())
}

/// Returns `false` only when `path` certainly does not exist, so that other
/// errors, such as a permission problem, surface when the file is read.
fn file_may_exist(path: &Path) -> bool {
    match std::fs::metadata(path) {
        Ok(_) => true,
        Err(error) => error.kind() != io::ErrorKind::NotFound,
    }
}

/// Required fields that the SDKs take from the profile together.
struct Group<const N: usize> {
    /// The group's environment variables, for log and error messages.
    description: &'static str,
    /// Each field's profile key and environment variable.
    fields: [(&'static str, &'static str); N],
    /// Reads each field's value from the config.
    from_config: fn(&CredentialsConfig) -> [&Option<String>; N],
    /// The optional profile key that comes along with the group.
    extra_key: &'static str,
}

const SENDER_GROUP: Group<2> = Group {
    description: "INTACCT_SENDER_ID and INTACCT_SENDER_PASSWORD",
    fields: [
        ("sender_id", env::SENDER_ID),
        ("sender_password", env::SENDER_PASSWORD),
    ],
    from_config: |config| [&config.sender_id, &config.sender_password],
    extra_key: "endpoint_url",
};

const LOGIN_GROUP: Group<3> = Group {
    description: "INTACCT_COMPANY_ID, INTACCT_USER_ID and INTACCT_USER_PASSWORD",
    fields: [
        ("company_id", env::COMPANY_ID),
        ("user_id", env::USER_ID),
        ("user_password", env::USER_PASSWORD),
    ],
    from_config: |config| [&config.company_id, &config.user_id, &config.user_password],
    extra_key: "entity_id",
};

/// A group's resolved values.
struct Resolved<const N: usize> {
    values: [String; N],
    /// The group's optional profile value, when the group came from the
    /// profile and the profile sets it.
    extra: Option<String>,
    /// The values' source, for the log.
    origin: String,
}

/// Resolves one group: config, then environment per field, then the profile
/// for all fields when none was set.
fn resolve_group<const N: usize>(
    config: &CredentialsConfig,
    env: &impl Fn(&str) -> Option<String>,
    profile: &mut Profile,
    group: &Group<N>,
) -> Result<Resolved<N>, CredentialsError> {
    let config_values = (group.from_config)(config);
    let mut values: [Option<String>; N] = core::array::from_fn(|_| None);
    let mut set_by: Option<String> = None;
    let (mut from_code, mut from_env) = (false, false);
    for (index, ((key, variable), config_value)) in
        group.fields.iter().zip(config_values).enumerate()
    {
        let value = match non_empty(config_value) {
            Some(value) => {
                from_code = true;
                set_by.get_or_insert_with(|| format!("{key} in CredentialsConfig"));
                Some(value.to_owned())
            }
            None => {
                let value = env(variable);
                if value.is_some() {
                    from_env = true;
                    set_by.get_or_insert_with(|| (*variable).to_owned());
                }
                value
            }
        };
        if let Some(slot) = values.get_mut(index) {
            *slot = value;
        }
    }

    let mut extra = None;
    let (reason, origin) = match set_by {
        Some(set_by) => {
            let origin = match (from_code, from_env) {
                (true, true) => "code and environment",
                (true, false) => "code",
                _ => "environment",
            };
            let reason = MissingReason::ProfileSkipped {
                set_by,
                group: group.description,
            };
            (reason, origin.to_owned())
        }
        None => match profile.file()? {
            ProfileFile::Loaded { file, name, path } => {
                for ((key, _), slot) in group.fields.iter().zip(values.iter_mut()) {
                    *slot = profile_value(file, name, key);
                }
                extra = profile_value(file, name, group.extra_key);
                let reason = MissingReason::ProfileLacksKey {
                    profile: name.to_owned(),
                    path: path.to_owned(),
                };
                (reason, format!("profile [{name}]"))
            }
            ProfileFile::Absent(path) => (
                MissingReason::NoProfileFile {
                    path: path.to_owned(),
                },
                "nowhere".to_owned(),
            ),
            ProfileFile::NoHome => (MissingReason::NoHomeDirectory, "nowhere".to_owned()),
        },
    };

    let mut resolved: [String; N] = core::array::from_fn(|_| String::new());
    for (index, ((key, variable), value)) in group.fields.iter().zip(values).enumerate() {
        let Some(value) = value else {
            return Err(CredentialsError::Missing {
                key,
                env_var: variable,
                reason,
            });
        };
        if let Some(slot) = resolved.get_mut(index) {
            *slot = value;
        }
    }
    Ok(Resolved {
        values: resolved,
        extra,
        origin,
    })
}

fn profile_value(file: &ini::IniFile, profile: &str, key: &str) -> Option<String> {
    file.get(profile, key)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

/// The profile file, read at most once and only when a group needs it.
struct Profile {
    name: String,
    path: Option<PathBuf>,
    state: Option<ProfileState>,
}

enum ProfileState {
    Loaded(ini::IniFile),
    Absent,
}

/// The result of [`Profile::file`].
enum ProfileFile<'a> {
    /// The file exists and has the profile's section.
    Loaded {
        file: &'a ini::IniFile,
        name: &'a str,
        path: &'a Path,
    },
    /// The file does not exist.
    Absent(&'a Path),
    /// No path is known.
    NoHome,
}

impl Profile {
    fn new(name: String, path: Option<PathBuf>) -> Self {
        Self {
            name,
            path,
            state: None,
        }
    }

    fn file(&mut self) -> Result<ProfileFile<'_>, CredentialsError> {
        let Some(path) = self.path.as_deref() else {
            return Ok(ProfileFile::NoHome);
        };
        if self.state.is_none() {
            self.state = Some(read_profile(path, &self.name)?);
        }
        match &self.state {
            Some(ProfileState::Loaded(file)) => Ok(ProfileFile::Loaded {
                file,
                name: &self.name,
                path,
            }),
            _ => Ok(ProfileFile::Absent(path)),
        }
    }
}

fn read_profile(path: &Path, name: &str) -> Result<ProfileState, CredentialsError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            log::debug!("profile file {} does not exist", path.display());
            return Ok(ProfileState::Absent);
        }
        Err(source) => {
            return Err(CredentialsError::ReadProfileFile {
                path: path.to_owned(),
                source,
            });
        }
    };

    let invalid = |error: ini::IniError| CredentialsError::InvalidProfileFile {
        path: path.to_owned(),
        line: error.line,
        reason: error.reason,
    };
    let file = ini::parse(ini::decode(&bytes).map_err(invalid)?).map_err(invalid)?;
    if !file.has_section(name) {
        return Err(CredentialsError::ProfileNotFound {
            profile: name.to_owned(),
            path: path.to_owned(),
            available: file.section_names(),
        });
    }
    log::debug!("read profile [{name}] from {}", path.display());
    Ok(ProfileState::Loaded(file))
}
