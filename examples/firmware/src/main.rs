//! getAPISession from a Cortex-M4 (MPS2 AN386 under QEMU).
//!
//! The firmware signs in to the gateway at build-time settings (see
//! `build.rs`) over UART0, which QEMU bridges to a TCP connection, prints
//! the session through semihosting, and exits through semihosting with
//! status 0 on success and 1 on failure. With the `tls` feature the
//! exchange runs over TLS 1.3 (embedded-tls) on top of the UART, and the
//! server's certificate is verified against the CA built in.
//!
//! It links without a global allocator: nothing in it allocates.
//!
//! Output, one item per line:
//!
//! ```text
//! intacct-firmware: getAPISession over plain TCP to http://127.0.0.1:PORT/ia/xml/xmlgw.phtml
//! session: session abcd…(40 bytes) at http://127.0.0.1:PORT/ia/xml/xmlgw.phtml (top level)
//! user: demo-user
//! company: DEMO-CO
//! timeout: 2026-12-04T21:00:00Z
//! stack-peak-bytes: 9876
//! result: ok
//! ```

#![no_std]
#![no_main]

mod clock;
mod stack;
mod uart;

mod config {
    include!(concat!(env!("OUT_DIR"), "/config.rs"));
}

use clock::Millis;
use core::panic::PanicInfo;
use core::ptr::addr_of_mut;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use intacct_core::client::{
    Buffers, Client, Config, DEFAULT_BODY_BUFFER, DEFAULT_HEAD_BUFFER, RetryPolicy,
};
use intacct_core::endpoint::AllowedOrigin;
use intacct_core::request::{Authentication, Login, Sender, SequentialControlIds, SessionLocation};
use intacct_core::session::Session;
use intacct_core::time::Utc;
use intacct_core::transport::Security;
use uart::UartTransport;

/// How long a read waits for the gateway before the exchange fails.
const READ_TIMEOUT_MS: u32 = 30_000;

#[cfg(not(feature = "tls"))]
const SECURITY: Security = Security::Plain;
#[cfg(feature = "tls")]
const SECURITY: Security = Security::Tls;

#[cfg(not(feature = "tls"))]
const CONFIGURATION: &str = "plain TCP";
#[cfg(feature = "tls")]
const CONFIGURATION: &str = "TLS 1.3";

static mut HEAD: [u8; DEFAULT_HEAD_BUFFER] = [0; DEFAULT_HEAD_BUFFER];
static mut BODY: [u8; DEFAULT_BODY_BUFFER] = [0; DEFAULT_BODY_BUFFER];

#[entry]
fn main() -> ! {
    let Some(peripherals) = cortex_m::Peripherals::take() else {
        fail("the core peripherals were already taken");
    };
    clock::start(peripherals.SYST);
    uart::init();
    hprintln!(
        "intacct-firmware: getAPISession over {} to {}",
        CONFIGURATION,
        config::ENDPOINT
    );

    stack::paint();
    let session = get_session();
    let stack_peak = stack::peak_bytes();

    match session {
        Some(session) => {
            print_session(&session);
            hprintln!("stack-peak-bytes: {}", stack_peak);
            hprintln!("result: ok");
            debug::exit(debug::EXIT_SUCCESS);
        }
        None => {
            hprintln!("stack-peak-bytes: {}", stack_peak);
            fail("getAPISession failed");
        }
    }
    loop {
        cortex_m::asm::wfi();
    }
}

/// Signs in and returns the session, or prints why it failed.
#[inline(never)]
fn get_session() -> Option<Session> {
    // SAFETY: `get_session` runs once, so these are the only references
    // to the buffers.
    let (head, body) = unsafe { (&mut *addr_of_mut!(HEAD), &mut *addr_of_mut!(BODY)) };
    let mut buffers = Buffers { head, body };

    let origins = [AllowedOrigin {
        security: SECURITY,
        host: config::HOST,
        port: config::PORT,
    }];
    let mut settings = Config::new(Sender {
        sender_id: config::SENDER_ID,
        sender_password: config::SENDER_PASSWORD,
    });
    settings.allowed_origins = &origins;
    // A retry would need a new connection, and the UART bridge is one
    // connection per boot.
    settings.retry = RetryPolicy::NONE;

    let transport = UartTransport::new(tls::layer(), READ_TIMEOUT_MS);
    let mut client = Client::new(
        transport,
        Millis,
        SequentialControlIds::new("qemu-fw"),
        settings,
    );
    let login = Login {
        user_id: config::USER_ID,
        company_id: config::COMPANY_ID,
        password: config::USER_PASSWORD,
        location_id: None,
    };
    match client.get_session(
        config::ENDPOINT,
        Authentication::Login(login),
        SessionLocation::Current,
        &mut buffers,
    ) {
        Ok(session) => Some(session),
        Err(error) => {
            hprintln!("error: {}", error);
            None
        }
    }
}

fn print_session(session: &Session) {
    hprintln!("session: {}", session);
    hprintln!("user: {}", session.user_id.as_str());
    hprintln!("company: {}", session.company_id.as_str());
    match session.projected_timeout() {
        Some(timeout) => hprintln!("timeout: {}", Utc(timeout)),
        None => hprintln!("timeout: unknown"),
    }
}

#[cfg(not(feature = "tls"))]
mod tls {
    use intacct_transport_nal::NoTls;

    /// No TLS: the endpoint is plain HTTP.
    pub fn layer() -> NoTls {
        NoTls
    }
}

#[cfg(feature = "tls")]
mod tls {
    use core::ptr::addr_of;
    use intacct_transport_nal::{EmbeddedTls, TlsBuffers};
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    static CA_DER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/ca.der"));

    static mut TLS_BUFFERS: TlsBuffers = TlsBuffers::new();

    /// NOTE: a fixed seed makes every boot's TLS key share the same, which
    /// anyone with this binary can reproduce. It is here only because the
    /// emulated board has no random number generator. A real device must
    /// seed the generator from its hardware RNG (or a TRNG-backed entropy
    /// pool) at every boot.
    const QEMU_ONLY_SEED: [u8; 32] = *b"qemu-has-no-rng-never-ship-this!";

    /// TLS 1.3 verified against the CA given at build time.
    pub fn layer() -> EmbeddedTls<'static, ChaCha20Rng> {
        // SAFETY: only shared references to TLS_BUFFERS are made, here,
        // once; the buffers guard their own exclusive use.
        let buffers = unsafe { &*addr_of!(TLS_BUFFERS) };
        EmbeddedTls::new(buffers, CA_DER, ChaCha20Rng::from_seed(QEMU_ONLY_SEED))
    }
}

fn fail(message: &str) -> ! {
    hprintln!("error: {}", message);
    hprintln!("result: failed");
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    hprintln!("panic: {}", info);
    fail("the firmware panicked")
}
