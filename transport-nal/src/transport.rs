//! The transport: DNS, TCP connect and the TLS layer.

use crate::connection::Connection;
use crate::layer::TlsLayer;
use crate::stream::{NalStream, PollError, Timeouts, poll};
use core::cell::RefCell;
use core::fmt;
use core::net::{IpAddr, SocketAddr};
use embedded_nal::{AddrType, Dns, TcpClientStack, nb};
use intacct_core::client::Timer;
use intacct_core::transport::{Security, Target, Transport};

/// Settings of a [`NalTransport`].
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Waits and polling.
    pub timeouts: Timeouts,
    /// The address family DNS lookups request. `Either` takes whatever the
    /// stack returns first. A server listening on IPv4 only needs `IPv4`
    /// where `localhost` also resolves to `::1`.
    pub addr_type: AddrType,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            timeouts: Timeouts::DEFAULT,
            addr_type: AddrType::Either,
        }
    }
}

/// The error of [`NalTransport`] when it cannot open a connection.
///
/// `T` is the stack's TCP error, `D` its DNS error and `L` the TLS layer's.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ConnectError<T, D, L> {
    /// The stack could not resolve the host name.
    Resolve(D),
    /// DNS returned no answer within [`Timeouts::connect_ms`].
    ResolveTimedOut,
    /// The stack could not create a socket (all sockets in use?).
    Socket(T),
    /// The TCP connect failed.
    Connect(T),
    /// The TCP connect did not complete within [`Timeouts::connect_ms`].
    ConnectTimedOut,
    /// The stack's `RefCell` was already borrowed: a stack call re-entered
    /// the transport.
    StackBusy,
    /// The TLS layer failed; the TCP connection was closed.
    Tls(L),
}

impl<T: fmt::Debug, D: fmt::Debug, L: fmt::Debug> fmt::Display for ConnectError<T, D, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Resolve(error) => write!(f, "DNS lookup of the gateway host failed: {error:?}"),
            Self::ResolveTimedOut => f.write_str(
                "DNS lookup of the gateway host timed out; check the stack's DNS server or raise Timeouts::connect_ms",
            ),
            Self::Socket(error) => write!(
                f,
                "the network stack could not open a TCP socket: {error:?}; close unused sockets"
            ),
            Self::Connect(error) => write!(f, "TCP connect to the gateway failed: {error:?}"),
            Self::ConnectTimedOut => f.write_str(
                "TCP connect to the gateway timed out; check the route or raise Timeouts::connect_ms",
            ),
            Self::StackBusy => f.write_str(
                "the network stack's RefCell was already borrowed; do not call the transport from inside a stack call",
            ),
            Self::Tls(error) => write!(f, "TLS setup with the gateway failed: {error:?}"),
        }
    }
}

impl<T: fmt::Debug, D: fmt::Debug, L: fmt::Debug> core::error::Error for ConnectError<T, D, L> {}

/// A [`Transport`] over an embedded-nal stack.
///
/// `S` is the stack (both [`TcpClientStack`] and [`Dns`]; wrap a stack
/// without DNS in [`NoDns`]), `M` the timer used to poll it and `L` the
/// [`TlsLayer`] for `https` targets.
pub struct NalTransport<'a, S, M, L> {
    stack: &'a RefCell<S>,
    timer: M,
    tls: L,
    options: Options,
}

impl<'a, S, M, L> NalTransport<'a, S, M, L> {
    /// Creates a transport with the default [`Options`].
    pub fn new(stack: &'a RefCell<S>, timer: M, tls: L) -> Self {
        Self {
            stack,
            timer,
            tls,
            options: Options::default(),
        }
    }

    /// Replaces the options.
    pub fn with_options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// Returns the options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Returns the TLS layer.
    pub fn tls(&self) -> &L {
        &self.tls
    }

    /// Returns the TLS layer mutably, for example to replace a CA certificate.
    pub fn tls_mut(&mut self) -> &mut L {
        &mut self.tls
    }
}

impl<'a, S, M, L> NalTransport<'a, S, M, L>
where
    S: TcpClientStack + Dns,
    M: Timer,
{
    /// Resolves `host`: IP literals directly, names through the stack's DNS.
    fn resolve<E>(
        &mut self,
        host: &str,
    ) -> Result<IpAddr, ConnectError<<S as TcpClientStack>::Error, <S as Dns>::Error, E>> {
        if let Ok(address) = host.parse::<IpAddr>() {
            return Ok(address);
        }
        let stack = self.stack;
        let addr_type = self.options.addr_type.clone();
        let timeouts = self.options.timeouts;
        let result = poll(
            &mut self.timer,
            timeouts.connect_ms,
            timeouts.poll_interval_ms,
            || match stack.try_borrow_mut() {
                Ok(mut stack) => stack
                    .get_host_by_name(host, addr_type.clone())
                    .map_err(|error| match error {
                        nb::Error::WouldBlock => nb::Error::WouldBlock,
                        nb::Error::Other(error) => nb::Error::Other(ConnectError::Resolve(error)),
                    }),
                Err(_) => Err(nb::Error::Other(ConnectError::StackBusy)),
            },
        );
        match result {
            Ok(address) => Ok(address),
            Err(PollError::TimedOut) => Err(ConnectError::ResolveTimedOut),
            Err(PollError::Failed(error)) => Err(error),
        }
    }

    /// Opens a socket and connects it to `remote`.
    fn connect_tcp<E>(
        &mut self,
        remote: SocketAddr,
    ) -> Result<S::TcpSocket, ConnectError<<S as TcpClientStack>::Error, <S as Dns>::Error, E>>
    {
        let mut socket = {
            let mut stack = self
                .stack
                .try_borrow_mut()
                .map_err(|_| ConnectError::StackBusy)?;
            stack.socket().map_err(ConnectError::Socket)?
        };

        let stack = self.stack;
        let timeouts = self.options.timeouts;
        let result = poll(
            &mut self.timer,
            timeouts.connect_ms,
            timeouts.poll_interval_ms,
            || match stack.try_borrow_mut() {
                Ok(mut stack) => stack
                    .connect(&mut socket, remote)
                    .map_err(|error| match error {
                        nb::Error::WouldBlock => nb::Error::WouldBlock,
                        nb::Error::Other(error) => nb::Error::Other(ConnectError::Connect(error)),
                    }),
                Err(_) => Err(nb::Error::Other(ConnectError::StackBusy)),
            },
        );
        let error = match result {
            Ok(()) => return Ok(socket),
            Err(PollError::TimedOut) => ConnectError::ConnectTimedOut,
            Err(PollError::Failed(error)) => error,
        };
        if let Ok(mut stack) = self.stack.try_borrow_mut() {
            let _ = stack.close(socket);
        }
        Err(error)
    }
}

impl<'a, S, M, L> Transport for NalTransport<'a, S, M, L>
where
    S: TcpClientStack + Dns,
    M: Timer + Clone,
    L: TlsLayer<NalStream<'a, S, M>>,
{
    type Connection = Connection<NalStream<'a, S, M>, L::Stream>;
    type Error = ConnectError<<S as TcpClientStack>::Error, <S as Dns>::Error, L::Error>;

    /// DNS, socket and TCP failures and timeouts are transient; a busy
    /// stack and the TLS layer's permanent failures are not.
    fn is_transient(error: &Self::Error) -> bool {
        match error {
            ConnectError::StackBusy => false,
            ConnectError::Tls(error) => L::is_transient(error),
            _ => true,
        }
    }

    fn connect(&mut self, target: Target<'_>) -> Result<Self::Connection, Self::Error> {
        let address = self.resolve::<L::Error>(target.host)?;
        let socket = self.connect_tcp::<L::Error>(SocketAddr::new(address, target.port))?;
        let stream = NalStream::new(
            self.stack,
            socket,
            self.timer.clone(),
            self.options.timeouts,
        );

        match target.security {
            Security::Plain => Ok(Connection::Plain(stream)),
            Security::Tls => self
                .tls
                .open(stream, target.host)
                .map(Connection::Tls)
                .map_err(ConnectError::Tls),
        }
    }
}

/// A TCP stack without DNS: IP literal hosts work, host names fail with
/// [`NoDns::Error`](Dns::Error).
///
/// For stacks that implement only [`TcpClientStack`], such as an offload
/// chip configured with fixed addresses.
#[derive(Debug, Clone, Default)]
pub struct NoDns<S>(pub S);

/// The error of [`NoDns`]: the host is a name, and the stack has no DNS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DnsUnavailable;

impl<S: TcpClientStack> TcpClientStack for NoDns<S> {
    type TcpSocket = S::TcpSocket;
    type Error = S::Error;

    fn socket(&mut self) -> Result<Self::TcpSocket, Self::Error> {
        self.0.socket()
    }

    fn connect(
        &mut self,
        socket: &mut Self::TcpSocket,
        remote: SocketAddr,
    ) -> nb::Result<(), Self::Error> {
        self.0.connect(socket, remote)
    }

    fn send(
        &mut self,
        socket: &mut Self::TcpSocket,
        buffer: &[u8],
    ) -> nb::Result<usize, Self::Error> {
        self.0.send(socket, buffer)
    }

    fn receive(
        &mut self,
        socket: &mut Self::TcpSocket,
        buffer: &mut [u8],
    ) -> nb::Result<usize, Self::Error> {
        self.0.receive(socket, buffer)
    }

    fn close(&mut self, socket: Self::TcpSocket) -> Result<(), Self::Error> {
        self.0.close(socket)
    }
}

impl<S> Dns for NoDns<S> {
    type Error = DnsUnavailable;

    fn get_host_by_name(
        &mut self,
        _hostname: &str,
        _addr_type: AddrType,
    ) -> nb::Result<IpAddr, DnsUnavailable> {
        Err(nb::Error::Other(DnsUnavailable))
    }

    fn get_host_by_address(
        &mut self,
        _addr: IpAddr,
        _result: &mut [u8],
    ) -> nb::Result<usize, DnsUnavailable> {
        Err(nb::Error::Other(DnsUnavailable))
    }
}
