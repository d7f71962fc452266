//! Random UUID v4 control ids.

use intacct_core::request::{ControlId, ControlIdSource};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// A [`ControlIdSource`] that returns a random UUID v4 for each request,
/// as the official SDKs do, from the operating system's random source.
#[derive(Debug, Default, Clone, Copy)]
pub struct UuidControlIds;

impl UuidControlIds {
    /// Creates the source.
    pub fn new() -> Self {
        Self
    }
}

impl ControlIdSource for UuidControlIds {
    fn next_control_id(&mut self) -> ControlId {
        let mut bytes = [0u8; 16];
        if getrandom::fill(&mut bytes).is_err() {
            // No OS random source: fall back to the clock and a counter of
            // this process, so two ids drawn in the same clock tick differ.
            static COUNTER: AtomicU64 = AtomicU64::new(0);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let count = u128::from(COUNTER.fetch_add(1, Ordering::Relaxed));
            bytes = (nanos ^ (count << 64)).to_le_bytes();
        }
        format_uuid_v4(bytes)
    }
}

/// Sets the version (4) and variant (RFC 9562) bits and formats the
/// 36-character form.
fn format_uuid_v4(mut bytes: [u8; 16]) -> ControlId {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut id = ControlId::new();
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            let _ = id.push('-');
        }
        // 36 characters fit the 64-byte capacity: the write cannot fail.
        let _ = write!(id, "{byte:02x}");
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_has_version_and_variant() {
        let id = format_uuid_v4([0xff; 16]);
        assert_eq!(id.as_str(), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let id = format_uuid_v4([0; 16]);
        assert_eq!(id.as_str(), "00000000-0000-4000-8000-000000000000");
    }

    #[test]
    fn uuid_ids_differ() {
        let mut source = UuidControlIds::new();
        let first = source.next_control_id();
        let second = source.next_control_id();
        assert_eq!(first.len(), 36);
        assert_ne!(first, second);
    }
}
