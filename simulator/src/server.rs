//! Listener and connection threads, and the state they share.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::clock::Clock;
use crate::fault::Fault;
use crate::gateway::Gateway;
use crate::http::{self, Ending};
use crate::lock;

/// How long a closing connection waits for the client to finish sending,
/// so that the client reads the last response instead of a reset.
const LINGER: Duration = Duration::from_millis(500);
/// Most bytes a closing connection discards while it lingers.
const LINGER_BYTES: usize = 4 << 20;
/// Write timeout per connection.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// Request and connection limits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) max_body_bytes: usize,
    pub(crate) max_head_bytes: usize,
    pub(crate) idle_timeout: Duration,
    pub(crate) max_connections: usize,
}

/// One listener: its URL scheme, its gateway URL and its TLS setup.
pub(crate) struct ListenerInfo {
    pub(crate) scheme: &'static str,
    pub(crate) endpoint: String,
    pub(crate) tls: Option<Arc<ServerConfig>>,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    /// Clones of open connections' sockets, to shut them down on stop.
    streams: HashMap<u64, TcpStream>,
    threads: Vec<JoinHandle<()>>,
}

/// State shared by the handle and every thread.
pub(crate) struct Shared {
    gateway: Mutex<Gateway>,
    pub(crate) clock: Clock,
    faults: Mutex<VecDeque<Fault>>,
    pub(crate) default_chunked: AtomicBool,
    pub(crate) requests: AtomicU64,
    pub(crate) connections: AtomicU64,
    last_body: Mutex<Option<String>>,
    stopping: AtomicBool,
    stop_lock: Mutex<()>,
    stop_signal: Condvar,
    registry: Mutex<Registry>,
    pub(crate) limits: Limits,
}

impl Shared {
    pub(crate) fn new(gateway: Gateway, clock: Clock, limits: Limits) -> Self {
        Shared {
            gateway: Mutex::new(gateway),
            clock,
            faults: Mutex::new(VecDeque::new()),
            default_chunked: AtomicBool::new(false),
            requests: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            last_body: Mutex::new(None),
            stopping: AtomicBool::new(false),
            stop_lock: Mutex::new(()),
            stop_signal: Condvar::new(),
            registry: Mutex::new(Registry::default()),
            limits,
        }
    }

    pub(crate) fn gateway(&self) -> MutexGuard<'_, Gateway> {
        lock(&self.gateway)
    }

    pub(crate) fn push_fault(&self, fault: Fault) {
        lock(&self.faults).push_back(fault);
    }

    pub(crate) fn take_fault(&self) -> Option<Fault> {
        lock(&self.faults).pop_front()
    }

    pub(crate) fn pending_faults(&self) -> usize {
        lock(&self.faults).len()
    }

    pub(crate) fn clear_faults(&self) {
        lock(&self.faults).clear();
    }

    pub(crate) fn record_body(&self, body: &[u8]) {
        *lock(&self.last_body) = Some(String::from_utf8_lossy(body).into_owned());
    }

    pub(crate) fn last_body(&self) -> Option<String> {
        lock(&self.last_body).clone()
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Waits for `duration`; returns `true` if the simulator began stopping
    /// meanwhile.
    pub(crate) fn wait_unless_stopping(&self, duration: Duration) -> bool {
        let deadline = Instant::now() + duration;
        let mut guard = lock(&self.stop_lock);
        loop {
            if self.is_stopping() {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            guard = match self.stop_signal.wait_timeout(guard, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Marks the simulator as stopping and wakes delayed requests.
    pub(crate) fn begin_stop(&self) {
        let _guard = lock(&self.stop_lock);
        self.stopping.store(true, Ordering::SeqCst);
        self.stop_signal.notify_all();
    }

    /// Shuts every open connection down and joins the connection threads.
    /// Call after the accept loops have ended.
    pub(crate) fn close_connections(&self) {
        let threads = {
            let mut registry = lock(&self.registry);
            for stream in registry.streams.values() {
                let _ = stream.shutdown(Shutdown::Both);
            }
            std::mem::take(&mut registry.threads)
        };
        for thread in threads {
            if thread.join().is_err() {
                log::error!("a connection thread panicked");
            }
        }
    }

    fn register(&self, stream: &TcpStream) -> Option<u64> {
        let mut registry = lock(&self.registry);
        if registry.streams.len() >= self.limits.max_connections {
            return None;
        }
        let clone = stream.try_clone().ok()?;
        registry.next_id += 1;
        let id = registry.next_id;
        registry.streams.insert(id, clone);
        // Forget finished threads so the list does not grow without bound.
        registry.threads.retain(|thread| !thread.is_finished());
        Some(id)
    }

    fn unregister(&self, id: u64) {
        lock(&self.registry).streams.remove(&id);
    }

    fn add_thread(&self, thread: JoinHandle<()>) {
        lock(&self.registry).threads.push(thread);
    }
}

/// Starts the accept loop of `listener` on its own thread.
pub(crate) fn spawn_listener(
    listener: TcpListener,
    info: Arc<ListenerInfo>,
    shared: Arc<Shared>,
) -> io::Result<JoinHandle<()>> {
    let name = format!("intacct-sim-{}-accept", info.scheme);
    thread::Builder::new()
        .name(name)
        .spawn(move || accept_loop(&listener, &info, &shared))
}

fn accept_loop(listener: &TcpListener, info: &Arc<ListenerInfo>, shared: &Arc<Shared>) {
    loop {
        let accepted = listener.accept();
        if shared.is_stopping() {
            return;
        }
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                log::warn!("{} listener: accept failed: {error}; retrying", info.scheme);
                // Back off so a persistent error (out of file descriptors)
                // does not spin.
                thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        shared.connections.fetch_add(1, Ordering::Relaxed);
        let Some(id) = shared.register(&stream) else {
            log::warn!(
                "{} {peer}: closing a new connection because {} connections are open",
                info.scheme,
                shared.limits.max_connections
            );
            continue;
        };
        log::debug!("{} {peer}: connection accepted", info.scheme);
        let thread_info = Arc::clone(info);
        let thread_shared = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name(format!("intacct-sim-{}-conn-{id}", info.scheme))
            .spawn(move || {
                run_connection(stream, peer, &thread_info, &thread_shared);
                thread_shared.unregister(id);
            });
        match spawned {
            Ok(thread) => shared.add_thread(thread),
            Err(error) => {
                log::error!(
                    "{} {peer}: could not start a connection thread: {error}",
                    info.scheme
                );
                shared.unregister(id);
            }
        }
    }
}

fn run_connection(stream: TcpStream, peer: SocketAddr, info: &ListenerInfo, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(shared.limits.idle_timeout));
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let socket = match stream.try_clone() {
        Ok(socket) => socket,
        Err(error) => {
            log::warn!(
                "{} {peer}: could not clone the socket: {error}",
                info.scheme
            );
            return;
        }
    };

    let ending = match &info.tls {
        None => http::serve(stream, peer, info, shared),
        Some(config) => match ServerConnection::new(Arc::clone(config)) {
            Ok(connection) => {
                let mut tls = StreamOwned::new(connection, stream);
                let ending = http::serve(&mut tls, peer, info, shared);
                if ending == Ending::Graceful {
                    tls.conn.send_close_notify();
                    let _ = std::io::Write::flush(&mut tls);
                }
                ending
            }
            Err(error) => {
                log::error!("{} {peer}: could not start TLS: {error}", info.scheme);
                Ending::Abrupt
            }
        },
    };

    if ending == Ending::Graceful {
        linger(&socket);
    }
    log::debug!("{} {peer}: connection closed ({ending:?})", info.scheme);
}

/// Half-closes the socket and discards what the client still sends, for at
/// most [`LINGER`], so that closing with unread input does not reset the
/// connection before the client has read the last response.
fn linger(socket: &TcpStream) {
    let _ = socket.shutdown(Shutdown::Write);
    let deadline = Instant::now() + LINGER;
    let mut discarded = 0usize;
    let mut buffer = [0u8; 8192];
    while discarded < LINGER_BYTES {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || socket.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match std::io::Read::read(&mut &*socket, &mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(count) => discarded += count,
        }
    }
}
