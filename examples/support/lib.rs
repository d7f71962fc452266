//! Code shared by the examples and the end-to-end tests: a simulator on
//! loopback with the client settings that reach it.

use intacct_core::endpoint::AllowedOrigin;
use intacct_core::request::{Login, Sender};
use intacct_core::transport::Security;
use intacct_simulator::{
    Config, DEMO_COMPANY_ID, DEMO_SENDER_ID, DEMO_SENDER_PASSWORD, DEMO_USER_ID,
    DEMO_USER_PASSWORD, Handle, Options, Simulator,
};
use intacct_transport_std::{StdTransport, TransportError};
use std::io;

/// A simulator started on loopback, with the allow-list entries for its
/// listeners.
pub struct LocalGateway {
    /// The running simulator.
    pub simulator: Handle,
    origins: Vec<(Security, String, u16)>,
}

impl LocalGateway {
    /// Starts a simulator with `config` and `options` (loopback by default).
    pub fn start(config: Config, options: Options) -> io::Result<Self> {
        let simulator = Simulator::start(config, options)?;
        let origins = [simulator.http_url(), simulator.https_url()]
            .into_iter()
            .flatten()
            .filter_map(|url| AllowedOrigin::from_url(url).ok())
            .map(|origin| (origin.security, origin.host.to_owned(), origin.port))
            .collect();
        Ok(Self { simulator, origins })
    }

    /// Starts the demo simulator with both listeners.
    pub fn demo() -> io::Result<Self> {
        Self::start(Config::demo(), Options::default())
    }

    /// Returns the allow-list entries for this simulator's listeners and
    /// nothing else.
    pub fn allowed_origins(&self) -> Vec<AllowedOrigin<'_>> {
        self.origins
            .iter()
            .map(|(security, host, port)| AllowedOrigin {
                security: *security,
                host,
                port: *port,
            })
            .collect()
    }

    /// Builds a std transport that trusts this simulator's CA and nothing
    /// else.
    pub fn transport(&self) -> Result<StdTransport, TransportError> {
        StdTransport::builder()
            .use_bundled_roots(false)
            .add_root_pem(self.simulator.ca_pem().as_bytes())?
            .build()
    }

    /// Returns the HTTPS gateway URL.
    pub fn https_url(&self) -> &str {
        self.simulator.https_url().unwrap_or_default()
    }

    /// Returns the HTTP gateway URL.
    pub fn http_url(&self) -> &str {
        self.simulator.http_url().unwrap_or_default()
    }
}

/// Returns the demo sender credentials of [`Config::demo`].
pub fn demo_sender() -> Sender<'static> {
    Sender {
        sender_id: DEMO_SENDER_ID,
        sender_password: DEMO_SENDER_PASSWORD,
    }
}

/// Returns the demo user's login, optionally straight into an entity.
pub fn demo_login(location_id: Option<&str>) -> Login<'_> {
    Login {
        user_id: DEMO_USER_ID,
        company_id: DEMO_COMPANY_ID,
        password: DEMO_USER_PASSWORD,
        location_id,
    }
}
