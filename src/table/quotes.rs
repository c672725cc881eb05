//! Following CSV quoting across a stream, as the csv crate and pandas parse
//! it: a `"` opens a quoted field only at the start of a field (after a
//! comma, a line break or the start of the file), `""` inside a quoted
//! field is one quote, and a quote anywhere else is an ordinary character.
//!
//! The scanner looks at quotes and line breaks only, with `memchr`, so it
//! costs little beside parsing. It tells where records end (for cutting
//! text into chunks of whole records), how the first line ends (to keep
//! `\r\n`), and whether the text ended inside a quoted field: a quote left
//! open swallows the rest of the file into one field, which pandas refuses
//! ("EOF inside string") and so must we.

/// The UTF-8 byte-order mark, which the csv crate and pandas skip.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Where the scanner is in the CSV grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Outside quotes; whether the next byte starts a field.
    Unquoted { field_start: bool },
    /// Inside a quoted field.
    Quoted,
    /// Inside a quoted field, just after a quote: `"` next makes it a
    /// literal quote, anything else closes the field.
    QuoteInQuoted,
}

/// The quoting state of a CSV text fed to it piece by piece.
#[derive(Clone, Debug)]
pub struct QuoteScanner {
    state: State,
    /// Bytes fed so far.
    offset: u64,
    /// Where the last quoted field opened (offset of its quote).
    opened_at: u64,
    /// Just after the last line break outside quotes.
    record_end: Option<u64>,
    /// Just after the first line break outside quotes, and whether it is
    /// `\r\n`.
    first_line: Option<(u64, bool)>,
    /// The last byte fed, for a `\r\n` split between two pieces.
    last: u8,
}

impl Default for QuoteScanner {
    fn default() -> Self {
        QuoteScanner {
            state: State::Unquoted { field_start: true },
            offset: 0,
            opened_at: 0,
            record_end: None,
            first_line: None,
            last: 0,
        }
    }
}

impl QuoteScanner {
    /// Follows the next piece of text.
    pub fn feed(&mut self, bytes: &[u8]) {
        let mut i = 0;
        if self.offset == 0 && bytes.starts_with(BOM) {
            i = BOM.len();
        }
        while i < bytes.len() {
            i = match self.state {
                State::Unquoted { field_start } => self.unquoted(bytes, i, field_start),
                State::Quoted => match memchr::memchr(b'"', &bytes[i..]) {
                    Some(at) => {
                        self.state = State::QuoteInQuoted;
                        i + at + 1
                    }
                    None => bytes.len(),
                },
                State::QuoteInQuoted => {
                    if bytes[i] == b'"' {
                        self.state = State::Quoted;
                        i + 1
                    } else {
                        // The field goes on unquoted (`"ab"cd` is `abcd`).
                        self.state = State::Unquoted { field_start: false };
                        i
                    }
                }
            };
        }
        if let Some(&last) = bytes.last() {
            self.last = last;
        }
        self.offset += bytes.len() as u64;
    }

    /// Scans unquoted text from `i` to the next opening quote (or the end).
    fn unquoted(&mut self, bytes: &[u8], mut i: usize, mut field_start: bool) -> usize {
        // Line breaks matter only for the first line and for record ends;
        // find them with quotes when there are quotes to tell apart.
        let quote = memchr::memchr(b'"', &bytes[i..]).map(|at| i + at);
        let end = quote.unwrap_or(bytes.len());
        if self.first_line.is_none()
            && let Some(at) = memchr::memchr(b'\n', &bytes[i..end])
        {
            let before = if i + at > 0 {
                bytes[i + at - 1]
            } else {
                self.last
            };
            self.first_line = Some((self.offset + (i + at + 1) as u64, before == b'\r'));
        }
        if let Some(at) = memchr::memrchr(b'\n', &bytes[i..end]) {
            self.record_end = Some(self.offset + (i + at + 1) as u64);
        }
        let Some(quote) = quote else {
            let last = bytes.last().copied().unwrap_or(self.last);
            field_start = if end > i {
                matches!(last, b',' | b'\n' | b'\r')
            } else {
                field_start
            };
            self.state = State::Unquoted { field_start };
            return bytes.len();
        };
        let before = if quote > i {
            Some(bytes[quote - 1])
        } else {
            None
        };
        let opens = match before {
            Some(byte) => matches!(byte, b',' | b'\n' | b'\r'),
            None => field_start,
        };
        i = quote + 1;
        if opens {
            self.opened_at = self.offset + quote as u64;
            self.state = State::Quoted;
        } else {
            self.state = State::Unquoted { field_start: false };
        }
        i
    }

    /// Whether the text fed so far ends inside a quoted field (at the end of
    /// the input: a quote was never closed).
    pub fn in_quotes(&self) -> bool {
        self.state == State::Quoted
    }

    /// The offset of the quote that opened the last quoted field.
    pub fn opened_at(&self) -> u64 {
        self.opened_at
    }

    /// The offset just after the last line break outside quotes: where the
    /// last whole record fed so far ends.
    pub fn record_end(&self) -> Option<u64> {
        self.record_end
    }

    /// Whether the first line ends in `\r\n`; `None` until a line has ended.
    pub fn first_line_crlf(&self) -> Option<bool> {
        self.first_line.map(|(_, crlf)| crlf)
    }

    /// The offset just after the first line break outside quotes (the end
    /// of the header); `None` until a line has ended.
    pub fn first_line_end(&self) -> Option<u64> {
        self.first_line.map(|(end, _)| end)
    }
}

/// A reader that follows the quoting of the CSV text read through it.
pub struct Scanned<R> {
    inner: R,
    scanner: QuoteScanner,
}

impl<R> Scanned<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Scanned {
            inner,
            scanner: QuoteScanner::default(),
        }
    }

    /// The quoting of what has been read so far.
    pub fn scanner(&self) -> &QuoteScanner {
        &self.scanner
    }
}

impl<R: std::io::Read> std::io::Read for Scanned<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.scanner.feed(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn scan(pieces: &[&[u8]]) -> QuoteScanner {
        let mut scanner = QuoteScanner::default();
        for piece in pieces {
            scanner.feed(piece);
        }
        scanner
    }

    #[test]
    fn an_unclosed_quote_is_seen_with_where_it_opened() {
        let s = scan(&[b"patient_id,b\n1,\"abc\n2,d\n"]);
        assert!(s.in_quotes());
        assert_eq!(s.opened_at(), 15);
        assert_eq!(s.record_end(), Some(13));
        assert!(!scan(&[b"a,b\n1,\"x\"\"y\"\n"]).in_quotes());
    }

    #[test]
    fn quotes_inside_unquoted_fields_are_ordinary() {
        let s = scan(&[b"a,b\n1,5\"3\n2,x\n"]);
        assert!(!s.in_quotes());
        assert_eq!(s.record_end(), Some(14));
        // After a closing quote the field goes on unquoted.
        assert!(!scan(&[b"\"ab\"cd\"e\n"]).in_quotes());
    }

    #[test]
    fn the_first_line_ending_is_found_outside_quotes_and_across_pieces() {
        let s = scan(&[b"\"a\nb\",c\r", b"\n1,2\n"]);
        assert_eq!(s.first_line_crlf(), Some(true));
        let s = scan(&[b"a,b\n", b"1,2\r\n"]);
        assert_eq!(s.first_line_crlf(), Some(false));
        assert_eq!(
            scan(&[b"\xEF\xBB\xBF\"a\"\r\n"]).first_line_crlf(),
            Some(true)
        );
    }

    /// The grammar byte by byte, as csv_core's states run it: the
    /// reference the memchr-driven scanner must agree with.
    fn reference(text: &[u8]) -> (bool, Option<u64>, Option<bool>) {
        let (mut quoted, mut after_quote, mut field_start) = (false, false, true);
        let (mut record_end, mut crlf) = (None, None);
        let start = if text.starts_with(BOM) { BOM.len() } else { 0 };
        for (i, &byte) in text.iter().enumerate().skip(start) {
            if quoted {
                if after_quote {
                    after_quote = false;
                    if byte == b'"' {
                        continue;
                    }
                    quoted = false;
                } else {
                    after_quote = byte == b'"';
                    continue;
                }
            }
            if byte == b'"' && field_start {
                quoted = true;
                field_start = false;
                continue;
            }
            if byte == b'\n' {
                record_end = Some(i as u64 + 1);
                crlf = crlf.or(Some(i > 0 && text[i - 1] == b'\r'));
            }
            field_start = matches!(byte, b',' | b'\n' | b'\r');
        }
        (quoted && !after_quote, record_end, crlf)
    }

    proptest! {
        #[test]
        fn splitting_the_text_does_not_change_the_verdict(
            text in proptest::collection::vec(prop_oneof![Just(b'"'), Just(b','), Just(b'\n'), Just(b'\r'), Just(b'a')], 0..60),
            cut in 0usize..60,
        ) {
            let cut = cut.min(text.len());
            let whole = scan(&[&text]);
            let split = scan(&[&text[..cut], &text[cut..]]);
            prop_assert_eq!(whole.in_quotes(), split.in_quotes());
            prop_assert_eq!(whole.record_end(), split.record_end());
            prop_assert_eq!(whole.first_line_crlf(), split.first_line_crlf());
        }

        #[test]
        fn the_scanner_agrees_with_the_grammar_byte_by_byte(
            text in proptest::collection::vec(prop_oneof![Just(b'"'), Just(b','), Just(b'\n'), Just(b'\r'), Just(b'a')], 0..80),
        ) {
            let scanner = scan(&[&text]);
            let (quoted, record_end, crlf) = reference(&text);
            prop_assert_eq!(scanner.in_quotes(), quoted);
            prop_assert_eq!(scanner.record_end(), record_end);
            prop_assert_eq!(scanner.first_line_crlf(), crlf);
        }
    }
}
