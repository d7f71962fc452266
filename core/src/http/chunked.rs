//! An incremental decoder for `Transfer-Encoding: chunked` framing.
//!
//! The decoder consumes framing bytes (size lines, chunk extensions, the CRLF
//! after each chunk, trailers) one at a time and keeps no copy of them, so a
//! line split across reads at any byte decodes the same way. It never touches
//! chunk data: the reader asks [`ChunkedDecoder::data_remaining`] how many of
//! the next bytes are data, moves them into the body buffer itself and then
//! calls [`ChunkedDecoder::consume_data`].

use super::HttpError;

/// The decoder's position in the chunked grammar of RFC 9112, section 7.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting the first hex digit of a chunk size.
    SizeStart,
    /// Inside the hex digits of a chunk size.
    Size,
    /// Whitespace after the size, before `;` or CR.
    SizeWhitespace,
    /// Inside a chunk extension, which is skipped up to CR.
    Extension,
    /// Expecting the LF that ends a size line.
    SizeLf,
    /// Inside chunk data, with this many bytes left.
    Data(usize),
    /// Expecting the CR after chunk data.
    DataCr,
    /// Expecting the LF after chunk data.
    DataLf,
    /// At the start of a trailer line or of the final empty line.
    TrailerStart,
    /// Inside a trailer field line, which is skipped up to CR.
    Trailer,
    /// Expecting the LF that ends a trailer field line.
    TrailerLf,
    /// Expecting the LF of the final empty line.
    FinalLf,
    /// The final empty line has been read.
    Done,
}

/// The chunked framing state of one response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkedDecoder {
    state: State,
    /// The chunk size parsed so far on the current size line.
    size: usize,
    /// Bytes consumed so far, framing and data, counted from the first byte
    /// after the head. Errors report it as the offset of the rejected byte.
    offset: usize,
}

impl ChunkedDecoder {
    /// Creates a decoder that expects the first size line.
    pub(crate) const fn new() -> Self {
        Self {
            state: State::SizeStart,
            size: 0,
            offset: 0,
        }
    }

    /// Returns whether the last chunk, the trailers and the final CRLF have
    /// been consumed.
    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Returns how many of the next input bytes are chunk data, or 0 when the
    /// next byte is framing.
    pub(crate) fn data_remaining(&self) -> usize {
        match self.state {
            State::Data(remaining) => remaining,
            _ => 0,
        }
    }

    /// Records that the caller moved `n` chunk-data bytes into the body.
    ///
    /// A count above [`ChunkedDecoder::data_remaining`] is clamped to it.
    pub(crate) fn consume_data(&mut self, n: usize) {
        if let State::Data(remaining) = self.state {
            let n = n.min(remaining);
            self.offset = self.offset.saturating_add(n);
            self.state = if remaining == n {
                State::DataCr
            } else {
                State::Data(remaining - n)
            };
        }
    }

    /// Consumes framing bytes from the start of `input` and returns how many
    /// it consumed.
    ///
    /// Stops early when chunk data begins (a nonzero size line ended) or when
    /// the body is done, so the caller must check
    /// [`ChunkedDecoder::data_remaining`] and [`ChunkedDecoder::is_done`]
    /// before feeding the rest. Consumes nothing while chunk data is expected.
    pub(crate) fn consume_framing(&mut self, input: &[u8]) -> Result<usize, HttpError> {
        for (consumed, &byte) in input.iter().enumerate() {
            if matches!(self.state, State::Data(_) | State::Done) {
                return Ok(consumed);
            }
            self.step(byte)?;
            self.offset = self.offset.saturating_add(1);
        }
        Ok(input.len())
    }

    /// Applies one framing byte to the state.
    fn step(&mut self, byte: u8) -> Result<(), HttpError> {
        let invalid_size = HttpError::InvalidChunkSize {
            offset: self.offset,
        };
        let malformed = HttpError::MalformedChunk {
            offset: self.offset,
        };

        self.state = match self.state {
            State::SizeStart => {
                self.size = hex_value(byte).ok_or(invalid_size)?;
                State::Size
            }
            State::Size => match byte {
                b'\r' => State::SizeLf,
                b'\n' => return Err(malformed),
                b';' => State::Extension,
                b' ' | b'\t' => State::SizeWhitespace,
                _ => {
                    let digit = hex_value(byte).ok_or(invalid_size)?;
                    self.size = self
                        .size
                        .checked_mul(16)
                        .and_then(|size| size.checked_add(digit))
                        .ok_or(invalid_size)?;
                    State::Size
                }
            },
            State::SizeWhitespace => match byte {
                b'\r' => State::SizeLf,
                b'\n' => return Err(malformed),
                b';' => State::Extension,
                b' ' | b'\t' => State::SizeWhitespace,
                _ => return Err(invalid_size),
            },
            State::Extension => match byte {
                b'\r' => State::SizeLf,
                _ if is_field_byte(byte) => State::Extension,
                _ => return Err(malformed),
            },
            State::SizeLf => match byte {
                b'\n' if self.size == 0 => State::TrailerStart,
                b'\n' => State::Data(self.size),
                _ => return Err(malformed),
            },
            State::DataCr => match byte {
                b'\r' => State::DataLf,
                _ => return Err(malformed),
            },
            State::DataLf => match byte {
                b'\n' => State::SizeStart,
                _ => return Err(malformed),
            },
            State::TrailerStart => match byte {
                b'\r' => State::FinalLf,
                _ if is_field_byte(byte) => State::Trailer,
                _ => return Err(malformed),
            },
            State::Trailer => match byte {
                b'\r' => State::TrailerLf,
                _ if is_field_byte(byte) => State::Trailer,
                _ => return Err(malformed),
            },
            State::TrailerLf | State::FinalLf => match byte {
                b'\n' if self.state == State::FinalLf => State::Done,
                b'\n' => State::TrailerStart,
                _ => return Err(malformed),
            },
            // `consume_framing` never calls `step` in these states.
            state @ (State::Data(_) | State::Done) => state,
        };
        Ok(())
    }
}

/// Returns the value of an ASCII hex digit of either case.
fn hex_value(byte: u8) -> Option<usize> {
    let value = match byte {
        b'0'..=b'9' => byte - b'0',
        b'a'..=b'f' => byte - b'a' + 10,
        b'A'..=b'F' => byte - b'A' + 10,
        _ => return None,
    };
    Some(usize::from(value))
}

/// Returns whether `byte` may occur inside a chunk extension or trailer
/// line: anything but control bytes, with tab allowed.
fn is_field_byte(byte: u8) -> bool {
    byte == b'\t' || (byte >= 0x20 && byte != 0x7f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// Decodes `input` fed in pieces of `split` bytes and returns the data and
    /// whether the decoder finished.
    fn decode(input: &[u8], split: usize) -> Result<(Vec<u8>, bool, usize), HttpError> {
        let mut decoder = ChunkedDecoder::new();
        let mut data = Vec::new();
        let mut consumed_total = 0;
        for piece in input.chunks(split) {
            let mut position = 0;
            while position < piece.len() && !decoder.is_done() {
                let remaining = decoder.data_remaining();
                if remaining > 0 {
                    let n = remaining.min(piece.len() - position);
                    data.extend_from_slice(&piece[position..position + n]);
                    decoder.consume_data(n);
                    position += n;
                } else {
                    position += decoder.consume_framing(&piece[position..])?;
                }
            }
            consumed_total += position;
        }
        Ok((data, decoder.is_done(), consumed_total))
    }

    #[test]
    fn decoder_simple_body() {
        let input = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        for split in 1..=input.len() {
            let (data, done, consumed) = decode(input, split).unwrap();
            assert_eq!(data, b"hello world", "split {split}");
            assert!(done, "split {split}");
            assert_eq!(consumed, input.len(), "split {split}");
        }
    }

    #[test]
    fn decoder_stops_after_final_crlf() {
        let input = b"0\r\n\r\nEXTRA";
        let mut decoder = ChunkedDecoder::new();
        assert_eq!(decoder.consume_framing(input), Ok(5));
        assert!(decoder.is_done());
        assert_eq!(decoder.consume_framing(b"more"), Ok(0));
    }

    #[test]
    fn decoder_size_forms() {
        let input = b"A;name=value;x=\"q\"\r\n0123456789\r\n1 \t;ext\r\nZ\r\n0\r\n\r\n";
        let (data, done, _) = decode(input, 1).unwrap();
        assert_eq!(data, b"0123456789Z");
        assert!(done);
    }

    #[test]
    fn decoder_trailers_discarded() {
        let input = b"3\r\nabc\r\n0\r\nX-Checksum: 1\r\nX-Other:\t2\r\n\r\n";
        let (data, done, consumed) = decode(input, 2).unwrap();
        assert_eq!(data, b"abc");
        assert!(done);
        assert_eq!(consumed, input.len());
    }

    #[test]
    fn decoder_invalid_sizes() {
        let cases: [(&[u8], usize); 6] = [
            (b"g\r\n", 0),
            (b"\r\n", 0),
            (b" 1\r\n", 0),
            (b"1x\r\n", 1),
            (b"1 2\r\n", 2),
            (b"3\r\nabc\r\n-1\r\n", 8),
        ];
        for (input, offset) in cases {
            assert_eq!(
                decode(input, 1),
                Err(HttpError::InvalidChunkSize { offset }),
                "{input:?}"
            );
        }
    }

    #[test]
    fn decoder_size_overflow() {
        let input = b"1ffffffffffffffffffffffff\r\n";
        let error = decode(input, 4).unwrap_err();
        assert!(
            matches!(error, HttpError::InvalidChunkSize { offset } if offset <= 17),
            "{error:?}"
        );
    }

    #[test]
    fn decoder_missing_crlf() {
        let cases: [(&[u8], usize); 6] = [
            (b"1\nx", 1),
            (b"1\rx", 2),
            (b"1\r\nxy", 4),
            (b"1\r\nx\rz", 5),
            (b"0\r\n\rx", 4),
            (b"1;a\x01\r\n", 3),
        ];
        for (input, offset) in cases {
            assert_eq!(
                decode(input, 1),
                Err(HttpError::MalformedChunk { offset }),
                "{input:?}"
            );
        }
    }

    #[test]
    fn decoder_rejects_control_in_trailer() {
        let input = b"0\r\nX: a\x00b\r\n\r\n";
        assert_eq!(
            decode(input, 3),
            Err(HttpError::MalformedChunk { offset: 7 })
        );
    }
}
