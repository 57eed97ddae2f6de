//! An input file's text as UTF-8, read as a stream: UTF-8 (a byte-order mark dropped), or —
//! when the file is not UTF-8 — Windows-1252, as Swedish Excel saves "CSV
//! (semikolonavgränsad)". The encoding is decided for the whole file by one pass that keeps
//! nothing ([`detect`]), so a file of any size is decoded with a few buffers of memory.

use std::io::{self, BufRead, Read, Seek, SeekFrom};

/// How a file's bytes are read as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Encoding {
    /// UTF-8.
    Utf8,
    /// Windows-1252 (Latin-1 with printable characters at 0x80–0x9F).
    Windows1252,
}

impl Encoding {
    /// The name the import report uses.
    pub(super) const fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Windows1252 => "Windows-1252",
        }
    }
}

/// The UTF-8 byte-order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads `input` to its end to find its encoding (UTF-8 when every byte sequence is), then
/// rewinds it. Memory: one 64 KiB buffer.
///
/// # Errors
/// Read and seek errors.
pub(super) fn detect<R: Read + Seek>(input: &mut R) -> io::Result<Encoding> {
    let mut buf = vec![0u8; 1 << 16];
    // Bytes of a sequence cut by the end of the previous read, moved to the front.
    let mut carry = 0usize;
    let encoding = loop {
        let n = input.read(&mut buf[carry..])?;
        if n == 0 {
            // A sequence still open at the end of the file is not UTF-8.
            break if carry == 0 {
                Encoding::Utf8
            } else {
                Encoding::Windows1252
            };
        }
        let filled = carry + n;
        match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => carry = 0,
            Err(e) if e.error_len().is_some() => break Encoding::Windows1252,
            Err(e) => {
                let valid = e.valid_up_to();
                buf.copy_within(valid..filled, 0);
                carry = filled - valid;
            }
        }
    };
    input.seek(SeekFrom::Start(0))?;
    Ok(encoding)
}

/// One Windows-1252 byte as a character (Latin-1, with the printable characters at 0x80–0x9F).
pub(super) fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

/// A reader giving `inner`'s text as UTF-8 bytes, with a leading byte-order mark dropped.
pub(super) struct Text<R> {
    inner: R,
    encoding: Encoding,
    /// Decoded bytes not yet handed out (Windows-1252 only).
    out: Vec<u8>,
    at: usize,
}

impl<R: BufRead> Text<R> {
    /// Decodes `inner` as `encoding`.
    ///
    /// # Errors
    /// When the first bytes cannot be read.
    pub(super) fn new(mut inner: R, encoding: Encoding) -> io::Result<Self> {
        // The mark is at most three bytes: a buffer holds them, unless the file is shorter.
        if inner.fill_buf()?.starts_with(BOM) {
            inner.consume(BOM.len());
        }
        Ok(Self {
            inner,
            encoding,
            out: Vec::new(),
            at: 0,
        })
    }
}

impl<R: BufRead> Read for Text<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.encoding == Encoding::Utf8 {
            return self.inner.read(buf);
        }
        if self.at == self.out.len() {
            self.out.clear();
            self.at = 0;
            let raw = self.inner.fill_buf()?;
            let n = raw.len();
            let mut utf8 = [0u8; 4];
            for &b in raw {
                self.out
                    .extend_from_slice(windows_1252(b).encode_utf8(&mut utf8).as_bytes());
            }
            self.inner.consume(n);
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Cursor};

    fn decode(bytes: &[u8], capacity: usize) -> (Encoding, String) {
        let mut input = Cursor::new(bytes.to_vec());
        let encoding = detect(&mut input).unwrap();
        let mut text = String::new();
        Text::new(BufReader::with_capacity(capacity, input), encoding)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        (encoding, text)
    }

    #[test]
    fn utf8_with_or_without_a_mark_reads_as_written() {
        assert_eq!(
            decode("å,ä\n".as_bytes(), 4),
            (Encoding::Utf8, "å,ä\n".into())
        );
        assert_eq!(
            decode(b"\xEF\xBB\xBFx;y\n", 8),
            (Encoding::Utf8, "x;y\n".into())
        );
        assert_eq!(decode(b"", 8), (Encoding::Utf8, String::new()));
    }

    #[test]
    fn windows_1252_is_decoded_whatever_the_buffer_size() {
        let bytes = b"G\xE5ngtunnel \x80 \x96 S\xF6dert\xE4lje\n";
        for capacity in [1, 2, 3, 7, 64] {
            assert_eq!(
                decode(bytes, capacity),
                (Encoding::Windows1252, "Gångtunnel € – Södertälje\n".into())
            );
        }
    }

    #[test]
    fn a_sequence_cut_at_the_end_or_across_reads_is_judged_rightly() {
        // Valid UTF-8 far longer than the detection buffer, with a two-byte character across
        // every 64 KiB boundary: still UTF-8.
        let long = format!("a{}", "ö".repeat(100_000));
        assert_eq!(decode(long.as_bytes(), 8192).0, Encoding::Utf8);
        // A lead byte with nothing after it at the very end: not UTF-8.
        assert_eq!(decode(b"abc\xC3", 8).0, Encoding::Windows1252);
    }
}
