//! A local Sage Intacct XML gateway for tests, examples and device
//! development.
//!
//! The simulator serves `POST /ia/xml/xmlgw.phtml` over HTTP and HTTPS on
//! loopback, one thread per connection, and serves `getAPISession` and
//! `readByQuery` on `LOCATION` with response documents shaped like the real
//! gateway's: the same elements, order, statuses and six-space indentation.
//!
//! ```
//! use intacct_simulator::{Config, Options, Simulator};
//!
//! let simulator = Simulator::start(Config::demo(), Options::default())?;
//! let url = simulator.http_url().expect("the HTTP listener is on by default");
//! assert!(url.starts_with("http://127.0.0.1:"));
//! assert!(simulator.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Credentials and levels
//!
//! [`Config::demo`] sets up sender [`DEMO_SENDER_ID`], company
//! [`DEMO_COMPANY_ID`] with entities `EAST` and `WEST`, an unrestricted user
//! [`DEMO_USER_ID`] and a user [`RESTRICTED_USER_ID`] restricted to `EAST`.
//!
//! - A `login` creates a session at the login's level: its `locationid`
//!   entity, or the top level when `locationid` is absent or empty. A
//!   restricted user logging in without an entity lands in the first entity
//!   of its list.
//! - A `sessionid` authenticates as that session's user, company and level.
//! - `<getAPISession/>` returns the caller's own session: the same session id
//!   for session authentication, the login's new session for login
//!   authentication. `<locationid>E</locationid>` returns a session for
//!   entity `E`, and `<locationid/>` (or `<locationid></locationid>`) a
//!   top-level session. When the requested level is the caller's level, the
//!   caller's session comes back; otherwise a new session is created and the
//!   caller's stays valid.
//! - A restricted user cannot get a top-level session or one for an entity
//!   outside its list. `readByQuery` on `LOCATION` lists the entities the
//!   user may use.
//! - Company, user and entity ids match ignoring ASCII case. Responses echo
//!   the user and company ids as the login sent them (so `A|B|C` style
//!   company ids round-trip) and entity ids as configured.
//!
//! # Sessions and time
//!
//! Every authenticated request, whatever its functions, renews its session
//! until the current simulated time plus the session duration. A session is
//! gone from the second its timeout is reached. The simulated clock starts
//! at the wall clock (or [`Options::clock_start`]) and moves with real time
//! plus every [`Handle::advance_clock`] step. `sessiontimestamp` and
//! `sessiontimeout` use the configured UTC offset, which
//! [`Handle::set_utc_offset_minutes`] can change to mimic a daylight saving
//! switch.
//!
//! # Failures
//!
//! The [`codes`] module lists every error number and text with its layer and
//! HTTP status. In short: malformed XML gets `GW-0011` with HTTP 400; schema
//! and sender failures come in the `control` block with HTTP 200; login and
//! session failures come in the `authentication` block with HTTP 401 and an
//! XML body; function failures come in a `result` with HTTP 200. Other
//! paths get an HTML 404, other methods an HTML 405, request bodies over
//! [`Options::max_body_bytes`] a 413, and oversized request heads a 431.
//! [`Fault`]s injected with [`Handle::push_fault`] imitate the CDN and
//! network failures in front of the real gateway.
//!
//! # HTTPS
//!
//! Each simulator generates a self-signed ECDSA P-256 CA and a leaf
//! certificate for `localhost`, `127.0.0.1` and `::1`. Clients trust
//! [`Handle::ca_pem`], also written to [`Handle::ca_path`].
//!
//! # Logging
//!
//! Requests, statuses and errors go to the [`log`] facade. Passwords never
//! appear, and session ids only as their first four characters.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod clock;
pub mod codes;
mod config;
mod fault;
mod gateway;
mod http;
mod request;
mod server;
mod tls;
mod xml;

use std::fs;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

pub use config::{
    Company, Config, ConfigError, DEFAULT_SESSION_DURATION, DEFAULT_UTC_OFFSET_MINUTES,
    DEMO_COMPANY_ID, DEMO_ENTITY_EAST, DEMO_ENTITY_EAST_NAME, DEMO_ENTITY_WEST,
    DEMO_ENTITY_WEST_NAME, DEMO_SENDER_ID, DEMO_SENDER_PASSWORD, DEMO_USER_ID, DEMO_USER_PASSWORD,
    Entity, MAX_UTC_OFFSET_MINUTES, RESTRICTED_USER_ID, RESTRICTED_USER_PASSWORD, Sender, User,
};
pub use fault::Fault;
pub use http::GATEWAY_PATH;

use clock::Clock;
use gateway::Gateway;
use server::{Limits, ListenerInfo, Shared};

/// Locks a mutex, taking the data even if another thread panicked while
/// holding it (the simulator's state stays usable for the other threads).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Listener and limit settings.
#[derive(Clone, Debug)]
pub struct Options {
    /// Address both listeners bind to. The default, `127.0.0.1`, keeps the
    /// simulator private to this machine; any other address exposes a
    /// gateway that accepts published demo credentials to the network.
    pub bind: IpAddr,
    /// Port of the plain HTTP listener: `Some(0)` (the default) picks a free
    /// port, `None` disables the listener.
    pub http_port: Option<u16>,
    /// Port of the HTTPS listener: `Some(0)` (the default) picks a free port,
    /// `None` disables the listener.
    pub https_port: Option<u16>,
    /// File to write the CA certificate (PEM) to. `None` writes it to a new
    /// file in the system temporary directory, removed when the simulator
    /// stops; a file chosen here is left in place.
    pub ca_path: Option<PathBuf>,
    /// Host name or IP address put in the `endpoint` URL that
    /// `getAPISession` returns (an IPv6 address in brackets, such as
    /// `[::1]`), and added to the HTTPS certificate. `None`
    /// uses `localhost` for HTTPS and the bound address for HTTP (loopback
    /// for a wildcard bind).
    pub endpoint_host: Option<String>,
    /// Simulated time at start. `None` (the default) starts at the wall clock.
    pub clock_start: Option<SystemTime>,
    /// Largest request body accepted; larger ones get 413. Default 1 MiB.
    pub max_body_bytes: usize,
    /// Largest request head (request line and header fields) accepted;
    /// larger ones get 431. Default 16 KiB.
    pub max_head_bytes: usize,
    /// How long an idle keep-alive connection stays open. Default 30 s.
    pub idle_timeout: Duration,
    /// Most connections open at once; further ones are closed right after
    /// accept. Default 256.
    pub max_connections: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            http_port: Some(0),
            https_port: Some(0),
            ca_path: None,
            endpoint_host: None,
            clock_start: None,
            max_body_bytes: 1 << 20,
            max_head_bytes: 16 << 10,
            idle_timeout: Duration::from_secs(30),
            max_connections: 256,
        }
    }
}

impl Options {
    /// Default options with only the HTTP listener.
    pub fn http_only() -> Self {
        Options {
            https_port: None,
            ..Options::default()
        }
    }

    /// Default options with only the HTTPS listener.
    pub fn https_only() -> Self {
        Options {
            http_port: None,
            ..Options::default()
        }
    }
}

/// Starts simulators.
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    /// Validates `config`, generates the TLS certificates, writes the CA
    /// file, binds the enabled listeners and starts their threads.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an invalid configuration or options (the message
    /// names the field), or the I/O error of a failed bind or CA file write.
    pub fn start(config: Config, options: Options) -> io::Result<Handle> {
        config
            .validate()
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?;
        if options.http_port.is_none() && options.https_port.is_none() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "options enable no listener: set http_port or https_port (0 picks a free port)",
            ));
        }

        let extra_host = options.endpoint_host.clone().or_else(|| {
            (!options.bind.is_loopback() && !options.bind.is_unspecified())
                .then(|| options.bind.to_string())
        });
        let certificates = tls::generate(extra_host.as_deref())?;
        let (ca_path, remove_ca_file) =
            write_ca_file(options.ca_path.as_deref(), &certificates.ca_pem)?;

        let clock = Clock::new(
            options.clock_start.unwrap_or_else(SystemTime::now),
            config.utc_offset_minutes,
        );
        let limits = Limits {
            max_body_bytes: options.max_body_bytes,
            max_head_bytes: options.max_head_bytes,
            idle_timeout: options.idle_timeout.max(Duration::from_millis(1)),
            max_connections: options.max_connections.max(1),
        };
        let shared = Arc::new(Shared::new(Gateway::new(config), clock, limits));

        let mut handle = Handle {
            shared: Arc::clone(&shared),
            http: None,
            https: None,
            ca_pem: certificates.ca_pem,
            ca_der: certificates.ca_der,
            ca_path,
            remove_ca_file,
            acceptors: Vec::new(),
        };
        // From here on, dropping `handle` on an error stops what started.
        if let Some(port) = options.http_port {
            let (endpoint, acceptor) = start_listener(&options, port, None, &shared)?;
            handle.http = Some(endpoint);
            handle.acceptors.push(acceptor);
        }
        if let Some(port) = options.https_port {
            let config = Some(Arc::clone(&certificates.server_config));
            let (endpoint, acceptor) = start_listener(&options, port, config, &shared)?;
            handle.https = Some(endpoint);
            handle.acceptors.push(acceptor);
        }
        log::info!(
            "intacct-simulator started: http {}, https {}",
            handle.http_url().unwrap_or("off"),
            handle.https_url().unwrap_or("off")
        );
        Ok(handle)
    }
}

/// A started listener's address and gateway URL.
#[derive(Debug)]
struct Endpoint {
    address: SocketAddr,
    url: String,
}

/// A running accept loop and the address that wakes it.
struct Acceptor {
    wake_address: SocketAddr,
    thread: JoinHandle<()>,
}

fn start_listener(
    options: &Options,
    port: u16,
    tls: Option<Arc<rustls::ServerConfig>>,
    shared: &Arc<Shared>,
) -> io::Result<(Endpoint, Acceptor)> {
    let scheme = if tls.is_some() { "https" } else { "http" };
    let listener = TcpListener::bind(SocketAddr::new(options.bind, port)).map_err(|error| {
        io::Error::new(
            error.kind(),
            format!(
                "failed to bind the {scheme} listener to {}:{port}: {error}",
                options.bind
            ),
        )
    })?;
    let address = listener.local_addr()?;
    let host = match &options.endpoint_host {
        Some(host) => host.clone(),
        None => default_endpoint_host(address.ip(), tls.is_some()),
    };
    let url = format!("{scheme}://{host}:{}{GATEWAY_PATH}", address.port());
    let info = Arc::new(ListenerInfo {
        scheme,
        endpoint: url.clone(),
        tls,
    });
    let thread = server::spawn_listener(listener, info, Arc::clone(shared))?;
    let wake_ip = match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    Ok((
        Endpoint { address, url },
        Acceptor {
            wake_address: SocketAddr::new(wake_ip, address.port()),
            thread,
        },
    ))
}

fn default_endpoint_host(bound: IpAddr, tls: bool) -> String {
    match bound {
        IpAddr::V4(ip) if tls && (ip.is_loopback() || ip.is_unspecified()) => {
            String::from("localhost")
        }
        IpAddr::V4(ip) if ip.is_unspecified() => Ipv4Addr::LOCALHOST.to_string(),
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) if ip.is_unspecified() => format!("[{}]", Ipv6Addr::LOCALHOST),
        IpAddr::V6(ip) => format!("[{ip}]"),
    }
}

/// Writes the CA certificate; returns its path and whether the simulator
/// created it in the temporary directory (and so removes it when stopping).
fn write_ca_file(path: Option<&Path>, pem: &str) -> io::Result<(PathBuf, bool)> {
    if let Some(path) = path {
        fs::write(path, pem).map_err(|error| {
            io::Error::new(
                error.kind(),
                format!(
                    "failed to write the CA certificate to {}: {error}",
                    path.display()
                ),
            )
        })?;
        return Ok((path.to_path_buf(), false));
    }
    static NEXT_FILE: AtomicU64 = AtomicU64::new(0);
    let directory = std::env::temp_dir();
    loop {
        let number = NEXT_FILE.fetch_add(1, Ordering::Relaxed);
        let path = directory.join(format!(
            "intacct-simulator-ca-{}-{number}.pem",
            std::process::id()
        ));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                io::Write::write_all(&mut file, pem.as_bytes()).map_err(|error| {
                    io::Error::new(
                        error.kind(),
                        format!(
                            "failed to write the CA certificate to {}: {error}",
                            path.display()
                        ),
                    )
                })?;
                return Ok((path, true));
            }
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(error) => {
                return Err(io::Error::new(
                    error.kind(),
                    format!(
                        "failed to create the CA certificate file {}: {error}",
                        path.display()
                    ),
                ));
            }
        }
    }
}

/// A running simulator. Dropping it (or calling [`Handle::shutdown`]) stops
/// the listeners, closes every connection and joins the threads.
pub struct Handle {
    shared: Arc<Shared>,
    http: Option<Endpoint>,
    https: Option<Endpoint>,
    ca_pem: String,
    ca_der: Vec<u8>,
    ca_path: PathBuf,
    remove_ca_file: bool,
    acceptors: Vec<Acceptor>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("http", &self.http_url())
            .field("https", &self.https_url())
            .field("ca_path", &self.ca_path)
            .finish_non_exhaustive()
    }
}

impl Handle {
    /// Returns the gateway URL of the HTTP listener
    /// (`http://127.0.0.1:PORT/ia/xml/xmlgw.phtml`), if enabled.
    pub fn http_url(&self) -> Option<&str> {
        self.http.as_ref().map(|endpoint| endpoint.url.as_str())
    }

    /// Returns the gateway URL of the HTTPS listener
    /// (`https://localhost:PORT/ia/xml/xmlgw.phtml`), if enabled.
    pub fn https_url(&self) -> Option<&str> {
        self.https.as_ref().map(|endpoint| endpoint.url.as_str())
    }

    /// Returns the socket address of the HTTP listener, if enabled.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().map(|endpoint| endpoint.address)
    }

    /// Returns the socket address of the HTTPS listener, if enabled.
    pub fn https_addr(&self) -> Option<SocketAddr> {
        self.https.as_ref().map(|endpoint| endpoint.address)
    }

    /// Returns the CA certificate that signs the HTTPS listener's
    /// certificate, PEM encoded.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Returns the CA certificate, DER encoded.
    pub fn ca_der(&self) -> &[u8] {
        &self.ca_der
    }

    /// Returns the path of the file that contains [`Handle::ca_pem`].
    pub fn ca_path(&self) -> &Path {
        &self.ca_path
    }

    /// Returns the number of HTTP requests whose head was read, on every path and
    /// listener, including rejected and faulted ones.
    pub fn requests_received(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Returns the number of TCP connections accepted by both listeners.
    pub fn connections_accepted(&self) -> u64 {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// Returns the body of the last `POST` to the gateway path, decoded as UTF-8
    /// with invalid bytes replaced. It contains the request's passwords.
    pub fn last_request_body(&self) -> Option<String> {
        self.shared.last_body()
    }

    /// Returns the number of sessions that have not expired.
    pub fn session_count(&self) -> usize {
        let now = self.shared.clock.now_unix_seconds();
        self.shared.gateway().session_count(now)
    }

    /// Ends every session; later requests with their ids fail
    /// authentication.
    pub fn expire_all_sessions(&self) {
        self.shared.gateway().expire_all_sessions();
    }

    /// Moves the simulated clock forward.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    /// Returns the current simulated time.
    pub fn simulated_time(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + self.shared.clock.now()
    }

    /// Changes the UTC offset of later response timestamps, in minutes east
    /// of UTC, as a daylight saving time switch does.
    ///
    /// # Errors
    ///
    /// Rejects offsets beyond [`MAX_UTC_OFFSET_MINUTES`].
    pub fn set_utc_offset_minutes(&self, minutes: i32) -> Result<(), ConfigError> {
        config::check_utc_offset(minutes)?;
        self.shared.clock.set_utc_offset_minutes(minutes);
        Ok(())
    }

    /// Queues a fault for a later gateway request; see [`Fault`].
    pub fn push_fault(&self, fault: Fault) {
        self.shared.push_fault(fault);
    }

    /// Returns the number of queued faults not yet consumed.
    pub fn pending_faults(&self) -> usize {
        self.shared.pending_faults()
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    /// Sends every gateway response with `Transfer-Encoding: chunked` (on),
    /// or with `Content-Length` (off, the default). A queued fault overrides
    /// this for its request.
    pub fn set_default_chunked(&self, chunked: bool) {
        self.shared
            .default_chunked
            .store(chunked, Ordering::Relaxed);
    }

    /// Stops the simulator and waits for its threads.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if self.acceptors.is_empty() && self.shared.is_stopping() {
            return;
        }
        self.shared.begin_stop();
        for acceptor in self.acceptors.drain(..) {
            // Connecting wakes the blocking accept, which then reads the
            // stopping flag and returns.
            match TcpStream::connect_timeout(&acceptor.wake_address, Duration::from_secs(1)) {
                Ok(_) => {
                    if acceptor.thread.join().is_err() {
                        log::error!("an accept thread panicked");
                    }
                }
                Err(error) => log::warn!(
                    "could not wake the listener on {}: {error}; leaving its thread behind",
                    acceptor.wake_address
                ),
            }
        }
        self.shared.close_connections();
        if self.remove_ca_file {
            if let Err(error) = fs::remove_file(&self.ca_path) {
                log::warn!(
                    "could not remove the CA file {}: {error}",
                    self.ca_path.display()
                );
            }
            self.remove_ca_file = false;
        }
        log::info!("intacct-simulator stopped");
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.stop();
    }
}
