//! Credential loading from an injected environment and a profile file in a
//! temporary home directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use intacct_transport_std::credentials::home_dir_from;
use intacct_transport_std::{Credentials, CredentialsConfig, CredentialsError, MissingReason};

/// A temporary home directory, removed on drop.
struct Home {
    path: PathBuf,
}

impl Home {
    fn new() -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "tstd-credentials-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self { path }
    }

    /// Creates a home with `~/.intacct/credentials.ini` holding `contents`.
    fn with_profile_file(contents: &[u8]) -> Self {
        let home = Self::new();
        std::fs::create_dir_all(home.path.join(".intacct")).unwrap();
        std::fs::write(home.profile_file(), contents).unwrap();
        home
    }

    fn profile_file(&self) -> PathBuf {
        self.path.join(".intacct").join("credentials.ini")
    }

    fn path(&self) -> Option<&Path> {
        Some(&self.path)
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

const FULL_ENV: &[(&str, &str)] = &[
    ("INTACCT_SENDER_ID", "env-sender"),
    ("INTACCT_SENDER_PASSWORD", "env-sender-pw"),
    ("INTACCT_COMPANY_ID", "env-company"),
    ("INTACCT_ENTITY_ID", "env-entity"),
    ("INTACCT_USER_ID", "env-user"),
    ("INTACCT_USER_PASSWORD", "env-user-pw"),
    (
        "INTACCT_ENDPOINT_URL",
        "https://env.intacct.com/ia/xml/xmlgw.phtml",
    ),
];

const DEFAULT_PROFILE: &str = "\
[default]
sender_id = file-sender
sender_password = file-sender-pw
company_id = file-company
entity_id = file-entity
user_id = file-user
user_password = file-user-pw
endpoint_url = https://file.intacct.com/ia/xml/xmlgw.phtml

[sandbox]
sender_id = sandbox-sender
sender_password = sandbox-sender-pw
company_id = sandbox-company
user_id = sandbox-user
user_password = sandbox-user-pw
";

#[test]
fn env_only() {
    let home = Home::new();

    let credentials = Credentials::load_from(env_of(FULL_ENV), home.path())
        .unwrap()
        .unwrap();

    assert_eq!(
        credentials,
        Credentials {
            sender_id: "env-sender".into(),
            sender_password: "env-sender-pw".into(),
            company_id: "env-company".into(),
            entity_id: Some("env-entity".into()),
            user_id: "env-user".into(),
            user_password: "env-user-pw".into(),
            endpoint_url: Some("https://env.intacct.com/ia/xml/xmlgw.phtml".into()),
        }
    );
}

#[test]
fn env_only_without_optional_fields() {
    let env = env_of(&[
        ("INTACCT_SENDER_ID", "s"),
        ("INTACCT_SENDER_PASSWORD", "sp"),
        ("INTACCT_COMPANY_ID", "c"),
        ("INTACCT_USER_ID", "u"),
        ("INTACCT_USER_PASSWORD", "up"),
    ]);

    let credentials = Credentials::load_from(env, None).unwrap().unwrap();

    assert_eq!(credentials.entity_id, None);
    assert_eq!(credentials.endpoint_url, None);
    assert_eq!(credentials.user_password, "up");
}

#[test]
fn profile_only() {
    let home = Home::with_profile_file(DEFAULT_PROFILE.as_bytes());

    let credentials = Credentials::load_from(env_of(&[]), home.path())
        .unwrap()
        .unwrap();

    assert_eq!(
        credentials,
        Credentials {
            sender_id: "file-sender".into(),
            sender_password: "file-sender-pw".into(),
            company_id: "file-company".into(),
            entity_id: Some("file-entity".into()),
            user_id: "file-user".into(),
            user_password: "file-user-pw".into(),
            endpoint_url: Some("https://file.intacct.com/ia/xml/xmlgw.phtml".into()),
        }
    );
}

#[test]
fn env_sender_and_profile_login() {
    let home = Home::with_profile_file(DEFAULT_PROFILE.as_bytes());
    let env = env_of(&[
        ("INTACCT_SENDER_ID", "env-sender"),
        ("INTACCT_SENDER_PASSWORD", "env-sender-pw"),
        ("INTACCT_ENDPOINT_URL", "https://env.intacct.com/x"),
    ]);

    let credentials = Credentials::load_from(env, home.path()).unwrap().unwrap();

    assert_eq!(credentials.sender_id, "env-sender");
    assert_eq!(credentials.sender_password, "env-sender-pw");
    assert_eq!(credentials.company_id, "file-company");
    assert_eq!(credentials.user_id, "file-user");
    assert_eq!(credentials.user_password, "file-user-pw");
    // The profile's endpoint_url is read only with the profile's sender
    // credentials, so the environment's applies.
    assert_eq!(
        credentials.endpoint_url.as_deref(),
        Some("https://env.intacct.com/x")
    );
}

#[test]
fn profile_sender_endpoint_beats_env_endpoint() {
    let home = Home::with_profile_file(DEFAULT_PROFILE.as_bytes());
    let env = env_of(&[
        ("INTACCT_COMPANY_ID", "env-company"),
        ("INTACCT_USER_ID", "env-user"),
        ("INTACCT_USER_PASSWORD", "env-user-pw"),
        ("INTACCT_ENDPOINT_URL", "https://env.intacct.com/x"),
    ]);

    let credentials = Credentials::load_from(env, home.path()).unwrap().unwrap();

    assert_eq!(credentials.sender_id, "file-sender");
    assert_eq!(credentials.company_id, "env-company");
    assert_eq!(
        credentials.endpoint_url.as_deref(),
        Some("https://file.intacct.com/ia/xml/xmlgw.phtml")
    );
    // The login group came from the environment, so the profile's
    // entity_id is not read.
    assert_eq!(credentials.entity_id, None);
}

#[test]
fn profile_entity_replaces_env_entity() {
    let home = Home::with_profile_file(DEFAULT_PROFILE.as_bytes());
    let env = env_of(&[("INTACCT_ENTITY_ID", "env-entity")]);

    let credentials = Credentials::load_from(env, home.path()).unwrap().unwrap();

    assert_eq!(credentials.entity_id.as_deref(), Some("file-entity"));
}

#[test]
fn env_entity_kept_when_profile_has_none() {
    let home = Home::with_profile_file(DEFAULT_PROFILE.as_bytes());
    let env = env_of(&[
        ("INTACCT_PROFILE", "sandbox"),
        ("INTACCT_ENTITY_ID", "env-entity"),
    ]);

    let credentials = Credentials::load_from(env, home.path()).unwrap().unwrap();

    assert_eq!(credentials.company_id, "sandbox-company");
    assert_eq!(credentials.entity_id.as_deref(), Some("env-entity"));
}

#[test]
fn partial_env_group_skips_profile() {
    let home = Home::with_profile_file(DEFAULT_PROFILE.as_bytes());
    let env = env_of(&[("INTACCT_SENDER_ID", "env-sender")]);

    let error = Credentials::load_from(env, home.path()).unwrap_err();

    assert!(
        matches!(
            &error,
            CredentialsError::Missing {
                key: "sender_password",
                env_var: "INTACCT_SENDER_PASSWORD",
                reason: MissingReason::ProfileSkipped { .. },
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "INTACCT_SENDER_PASSWORD is not set; the profile file is not read for \
         INTACCT_SENDER_ID and INTACCT_SENDER_PASSWORD because INTACCT_SENDER_ID is set, \
         so set INTACCT_SENDER_PASSWORD too or unset INTACCT_SENDER_ID"
    );
}

#[test]
fn named_profile_from_env() {
    let home = Home::with_profile_file(DEFAULT_PROFILE.as_bytes());
    let env = env_of(&[("INTACCT_PROFILE", "sandbox")]);

    let credentials = Credentials::load_from(env, home.path()).unwrap().unwrap();

    assert_eq!(credentials.sender_id, "sandbox-sender");
    assert_eq!(credentials.user_password, "sandbox-user-pw");
    assert_eq!(credentials.entity_id, None);
    assert_eq!(credentials.endpoint_url, None);
}

#[test]
fn sender_profile_env_is_fallback() {
    let home = Home::with_profile_file(DEFAULT_PROFILE.as_bytes());

    let fallback = Credentials::load_from(
        env_of(&[("INTACCT_SENDER_PROFILE", "sandbox")]),
        home.path(),
    )
    .unwrap()
    .unwrap();
    let overridden = Credentials::load_from(
        env_of(&[
            ("INTACCT_PROFILE", "default"),
            ("INTACCT_SENDER_PROFILE", "sandbox"),
        ]),
        home.path(),
    )
    .unwrap()
    .unwrap();

    assert_eq!(fallback.sender_id, "sandbox-sender");
    assert_eq!(overridden.sender_id, "file-sender");
}

#[test]
fn config_beats_env_and_profile() {
    let home = Home::with_profile_file(DEFAULT_PROFILE.as_bytes());
    let config = CredentialsConfig {
        sender_id: Some("code-sender".into()),
        user_password: Some("code-user-pw".into()),
        endpoint_url: Some("https://code.intacct.com/x".into()),
        ..CredentialsConfig::default()
    };

    let credentials = Credentials::load_with(&config, env_of(FULL_ENV), home.path())
        .unwrap()
        .unwrap();

    assert_eq!(credentials.sender_id, "code-sender");
    assert_eq!(credentials.sender_password, "env-sender-pw");
    assert_eq!(credentials.user_id, "env-user");
    assert_eq!(credentials.user_password, "code-user-pw");
    assert_eq!(
        credentials.endpoint_url.as_deref(),
        Some("https://code.intacct.com/x")
    );
}

#[test]
fn config_profile_name_and_file() {
    let home = Home::with_profile_file(DEFAULT_PROFILE.as_bytes());
    let config = CredentialsConfig {
        profile_name: Some("sandbox".into()),
        profile_file: Some(home.profile_file()),
        ..CredentialsConfig::default()
    };

    // No home directory: the file comes from the config alone, and the
    // config's profile name beats INTACCT_PROFILE.
    let credentials =
        Credentials::load_with(&config, env_of(&[("INTACCT_PROFILE", "default")]), None)
            .unwrap()
            .unwrap();

    assert_eq!(credentials.company_id, "sandbox-company");
}

#[test]
fn missing_profile_key_names_variable_and_key() {
    let home = Home::with_profile_file(
        b"[default]\nsender_id = s\nsender_password = sp\ncompany_id = c\nuser_id = u\n",
    );

    let error = Credentials::load_from(env_of(&[]), home.path()).unwrap_err();

    assert_eq!(
        error.to_string(),
        format!(
            "INTACCT_USER_PASSWORD is not set and profile [default] in {} has no user_password",
            home.profile_file().display()
        )
    );
}

#[test]
fn empty_values_count_as_unset() {
    let home = Home::with_profile_file(
        b"[default]\nsender_id = s\nsender_password = \"\"\ncompany_id = c\nuser_id = u\nuser_password = up\n",
    );
    let env = env_of(&[("INTACCT_SENDER_ID", ""), ("INTACCT_SENDER_PASSWORD", "")]);

    let error = Credentials::load_from(env, home.path()).unwrap_err();

    assert!(
        matches!(
            &error,
            CredentialsError::Missing {
                key: "sender_password",
                reason: MissingReason::ProfileLacksKey { .. },
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn bom_and_crlf_profile() {
    let contents = b"\xEF\xBB\xBF; written on Windows\r\n[default]\r\nsender_id = s\r\nsender_password = sp\r\ncompany_id = c\r\nuser_id = u\r\nuser_password = up\r\n";
    let home = Home::with_profile_file(contents);

    let credentials = Credentials::load_from(env_of(&[]), home.path())
        .unwrap()
        .unwrap();

    assert_eq!(credentials.sender_id, "s");
    assert_eq!(credentials.sender_password, "sp");
    assert_eq!(credentials.user_password, "up");
}

#[test]
fn quoted_and_comment_characters_in_values() {
    let home = Home::with_profile_file(
        b"[default]\nsender_id = s\nsender_password = p;a#s=s\ncompany_id = \"c o\"\nuser_id = 'u'\nuser_password = \" spaced \"\n",
    );

    let credentials = Credentials::load_from(env_of(&[]), home.path())
        .unwrap()
        .unwrap();

    assert_eq!(credentials.sender_password, "p;a#s=s");
    assert_eq!(credentials.company_id, "c o");
    assert_eq!(credentials.user_id, "u");
    assert_eq!(credentials.user_password, " spaced ");
}

#[test]
fn nothing_configured_is_none() {
    let home = Home::new();

    let with_home = Credentials::load_from(env_of(&[]), home.path()).unwrap();
    let without_home = Credentials::load_from(env_of(&[]), None).unwrap();
    let unrelated_env =
        Credentials::load_from(env_of(&[("PATH", "/usr/bin")]), home.path()).unwrap();

    assert!(with_home.is_none());
    assert!(without_home.is_none());
    assert!(unrelated_env.is_none());
}

#[test]
fn profile_env_without_file_is_error() {
    let home = Home::new();
    let env = env_of(&[("INTACCT_PROFILE", "sandbox")]);

    let error = Credentials::load_from(env, home.path()).unwrap_err();

    assert_eq!(
        error.to_string(),
        format!(
            "INTACCT_SENDER_ID is not set and the profile file {} does not exist",
            home.profile_file().display()
        )
    );
}

#[test]
fn env_without_home_is_error() {
    let env = env_of(&[("INTACCT_COMPANY_ID", "c")]);

    let error = Credentials::load_from(env, None).unwrap_err();

    assert!(
        matches!(
            &error,
            CredentialsError::Missing {
                key: "sender_id",
                reason: MissingReason::NoHomeDirectory,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("set HOME"), "{error}");
}

#[test]
fn unknown_profile_lists_sections() {
    let home = Home::with_profile_file(DEFAULT_PROFILE.as_bytes());
    let env = env_of(&[("INTACCT_PROFILE", "production")]);

    let error = Credentials::load_from(env, home.path()).unwrap_err();

    assert_eq!(
        error.to_string(),
        format!(
            "profile [production] not found in {}; it has [default], [sandbox]; \
             set INTACCT_PROFILE to one of them",
            home.profile_file().display()
        )
    );
}

#[test]
fn malformed_profile_names_line() {
    let home = Home::with_profile_file(b"[default]\nsender_id = s\nsecret-without-equals\n");

    let error = Credentials::load_from(env_of(&[]), home.path()).unwrap_err();
    let message = error.to_string();

    assert!(
        matches!(error, CredentialsError::InvalidProfileFile { line: 3, .. }),
        "{error:?}"
    );
    assert!(!message.contains("secret-without-equals"), "{message}");
}

#[test]
fn full_env_does_not_read_broken_profile() {
    let home = Home::with_profile_file(b"this file is not INI\n");

    let credentials = Credentials::load_from(env_of(FULL_ENV), home.path()).unwrap();

    assert!(credentials.is_some());
}

#[test]
fn debug_redacts_passwords() {
    let credentials = Credentials::load_from(env_of(FULL_ENV), None)
        .unwrap()
        .unwrap();
    let config = CredentialsConfig {
        sender_password: Some("code-secret".into()),
        ..CredentialsConfig::default()
    };

    let printed = format!("{credentials:?} {config:?}");

    assert!(!printed.contains("env-sender-pw"), "{printed}");
    assert!(!printed.contains("env-user-pw"), "{printed}");
    assert!(!printed.contains("code-secret"), "{printed}");
    assert!(printed.contains("env-sender"), "{printed}");
    assert!(printed.contains("<redacted>"), "{printed}");
}

#[test]
fn home_dir_from_home_or_windows_pair() {
    let unix = home_dir_from(env_of(&[("HOME", "/home/ci")]));
    let windows = home_dir_from(env_of(&[("HOMEDRIVE", "C:"), ("HOMEPATH", "\\Users\\ci")]));
    let half = home_dir_from(env_of(&[("HOMEDRIVE", "C:")]));

    assert_eq!(unix, Some(PathBuf::from("/home/ci")));
    assert_eq!(windows, Some(PathBuf::from("C:\\Users\\ci")));
    assert_eq!(half, None);
}
