//! Crate-private logging macros.
//!
//! Each macro forwards to `log` when the `log` feature is on, to `defmt` when
//! only the `defmt` feature is on, and compiles to nothing otherwise. The
//! format strings use the `{}` syntax both backends accept, so every logged
//! value implements `Display` and, with `defmt`, `defmt::Format`. Callers pass
//! only values that are safe to log: never a password and never a whole
//! session id.

#![allow(unused_macros)]

macro_rules! trace {
    ($($arg:tt)*) => {{
        #[cfg(feature = "log")]
        ::log::trace!($($arg)*);
        #[cfg(all(feature = "defmt", not(feature = "log")))]
        ::defmt::trace!($($arg)*);
        #[cfg(not(any(feature = "log", feature = "defmt")))]
        if false {
            let _ = ::core::format_args!($($arg)*);
        }
    }};
}

macro_rules! debug {
    ($($arg:tt)*) => {{
        #[cfg(feature = "log")]
        ::log::debug!($($arg)*);
        #[cfg(all(feature = "defmt", not(feature = "log")))]
        ::defmt::debug!($($arg)*);
        #[cfg(not(any(feature = "log", feature = "defmt")))]
        if false {
            let _ = ::core::format_args!($($arg)*);
        }
    }};
}

macro_rules! info {
    ($($arg:tt)*) => {{
        #[cfg(feature = "log")]
        ::log::info!($($arg)*);
        #[cfg(all(feature = "defmt", not(feature = "log")))]
        ::defmt::info!($($arg)*);
        #[cfg(not(any(feature = "log", feature = "defmt")))]
        if false {
            let _ = ::core::format_args!($($arg)*);
        }
    }};
}

macro_rules! warn {
    ($($arg:tt)*) => {{
        #[cfg(feature = "log")]
        ::log::warn!($($arg)*);
        #[cfg(all(feature = "defmt", not(feature = "log")))]
        ::defmt::warn!($($arg)*);
        #[cfg(not(any(feature = "log", feature = "defmt")))]
        if false {
            let _ = ::core::format_args!($($arg)*);
        }
    }};
}
