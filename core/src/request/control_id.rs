//! Control ids for requests and functions.

use core::fmt::Write;

/// Maximum length of a `controlid` in bytes. A UUID needs 36; the gateway
/// echoes the value back, so a short id also keeps responses small.
pub const CONTROL_ID_CAPACITY: usize = 64;

/// An owned `controlid`.
pub type ControlId = heapless::String<CONTROL_ID_CAPACITY>;

/// Produces a fresh `controlid` for each request.
///
/// The std transport offers UUID v4 ids; a device can use
/// [`SequentialControlIds`] or its own hardware random source.
pub trait ControlIdSource {
    /// Returns the next id. It must be non-empty and XML-safe.
    fn next_control_id(&mut self) -> ControlId;
}

/// `prefix-1`, `prefix-2`, … for devices without a random source.
///
/// The gateway uses `controlid` to match responses to requests and, with
/// `uniqueid` set, to reject replays, so a prefix that differs per boot
/// (a serial number and a boot counter, say) avoids collisions.
#[derive(Debug, Clone)]
pub struct SequentialControlIds<'a> {
    prefix: &'a str,
    next: u64,
}

impl<'a> SequentialControlIds<'a> {
    /// Starts at `prefix-1`. A prefix longer than 40 bytes is cut at a
    /// character boundary so that every id fits [`CONTROL_ID_CAPACITY`].
    pub fn new(prefix: &'a str) -> Self {
        let mut end = prefix.len().min(40);
        while !prefix.is_char_boundary(end) {
            end -= 1;
        }
        Self {
            prefix: &prefix[..end],
            next: 1,
        }
    }
}

impl ControlIdSource for SequentialControlIds<'_> {
    fn next_control_id(&mut self) -> ControlId {
        let mut id = ControlId::new();
        // 40 prefix bytes + '-' + 20 digits fit in 64: the write cannot fail.
        let _ = write!(id, "{}-{}", self.prefix, self.next);
        self.next = self.next.wrapping_add(1);
        id
    }
}

impl<T: ControlIdSource + ?Sized> ControlIdSource for &mut T {
    fn next_control_id(&mut self) -> ControlId {
        (**self).next_control_id()
    }
}
