//! Input handling: encoding detection and streaming transcoding to UTF-8.
//!
//! 1C writes UTF-8 (with or without BOM) and, in older versions and some
//! configurations, `windows-1251` declared in the XML declaration (the WC1C
//! project ships a whole extension, "Support Windows-1251", for "old versions
//! of 1C"). We sniff the first bytes (BOM, then `encoding="…"` of the XML
//! declaration), and for anything but UTF-8 put a streaming
//! [`encoding_rs`] decoder in front of the XML parser, so the parser — and the
//! rest of this crate — only ever sees UTF-8. Memory stays constant: one fixed
//! output buffer.

use std::io::{self, BufRead, Read};

use encoding_rs::{DecoderResult, Encoding, UTF_8};

/// How many bytes we look at to find the XML declaration.
const SNIFF_LIMIT: usize = 1024;
/// Size of the transcoding output buffer.
const OUT_BUF: usize = 64 * 1024;

/// What sniffing found.
pub(crate) struct Sniffed {
    /// Bytes already taken from the input (to be served first).
    pub head: Vec<u8>,
    /// Detected encoding.
    pub encoding: &'static Encoding,
    /// The input starts with a BOM (UTF-8 BOMs are left for quick-xml to skip,
    /// UTF-16 BOMs are removed by the decoder).
    pub bom: bool,
}

/// Reads the start of the input and decides on the encoding. Errors are
/// either I/O errors or `Err(Ok(message))` for an unsupported encoding.
pub(crate) fn sniff<R: BufRead>(input: &mut R) -> io::Result<Result<Sniffed, String>> {
    let mut head = Vec::new();
    loop {
        let chunk = match input.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            break;
        }
        let take = chunk.len().min(SNIFF_LIMIT - head.len());
        head.extend_from_slice(&chunk[..take]);
        input.consume(take);
        if head.len() >= SNIFF_LIMIT || declaration_end(&head).is_some() {
            break;
        }
        let body = strip_utf8_bom(&head);
        if body.len() >= 5 && !body.starts_with(b"<?xml") && !starts_with_utf16_bom(&head) {
            break; // no declaration: nothing more to learn
        }
    }

    if head.starts_with(&[0xFF, 0xFE]) {
        return Ok(Ok(Sniffed {
            head,
            encoding: encoding_rs::UTF_16LE,
            bom: true,
        }));
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return Ok(Ok(Sniffed {
            head,
            encoding: encoding_rs::UTF_16BE,
            bom: true,
        }));
    }
    let bom = head.starts_with(&[0xEF, 0xBB, 0xBF]);
    let encoding = match declared_encoding(strip_utf8_bom(&head)) {
        None => UTF_8,
        Some(label) => match Encoding::for_label(label.as_bytes()) {
            // A BOM wins over the declaration (some tools re-save files as
            // UTF-8 and keep the old declaration).
            Some(_) if bom => UTF_8,
            Some(enc) if enc == UTF_8 => UTF_8,
            Some(enc) if enc.is_ascii_compatible() => enc,
            Some(enc) => {
                return Ok(Err(format!(
                    "declared encoding {:?} ({}) needs a byte order mark",
                    label,
                    enc.name()
                )));
            }
            None => return Ok(Err(format!("unsupported encoding {label:?}"))),
        },
    };
    Ok(Ok(Sniffed {
        head,
        encoding,
        bom,
    }))
}

fn strip_utf8_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes)
}

fn starts_with_utf16_bom(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF])
}

fn declaration_end(bytes: &[u8]) -> Option<usize> {
    let body = strip_utf8_bom(bytes);
    if !body.starts_with(b"<?xml") {
        return None;
    }
    body.windows(2).position(|w| w == b"?>")
}

/// The `encoding` pseudo-attribute of `<?xml … ?>`, if any.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    if !bytes.starts_with(b"<?xml") {
        return None;
    }
    let end = declaration_end(bytes)?;
    let decl = &bytes[..end];
    let key = b"encoding";
    let at = decl.windows(key.len()).position(|w| w == key)?;
    let mut rest = decl[at + key.len()..]
        .iter()
        .copied()
        .skip_while(u8::is_ascii_whitespace);
    if rest.next()? != b'=' {
        return None;
    }
    let mut rest = rest.skip_while(u8::is_ascii_whitespace);
    let quote = rest.next()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let label: Vec<u8> = rest.take_while(|&b| b != quote).collect();
    String::from_utf8(label).ok().map(|s| s.trim().to_owned())
}

/// Serves `head` first, then the rest of `inner`.
pub(crate) struct Prefixed<R> {
    head: Vec<u8>,
    pos: usize,
    inner: R,
}

impl<R> Prefixed<R> {
    pub(crate) fn new(head: Vec<u8>, inner: R) -> Self {
        Prefixed {
            head,
            pos: 0,
            inner,
        }
    }
}

impl<R: BufRead> Read for Prefixed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Prefixed<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos < self.head.len() {
            Ok(&self.head[self.pos..])
        } else {
            self.inner.fill_buf()
        }
    }

    fn consume(&mut self, amt: usize) {
        if self.pos < self.head.len() {
            self.pos = (self.pos + amt).min(self.head.len());
            if self.pos == self.head.len() {
                // Drained: free it; an empty head means "read from inner".
                self.head = Vec::new();
                self.pos = 0;
            }
        } else {
            self.inner.consume(amt);
        }
    }
}

/// Streams `inner` (in some encoding) out as UTF-8.
pub(crate) struct Transcoder<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    out: Box<[u8]>,
    pos: usize,
    len: usize,
    finished: bool,
}

impl<R> Transcoder<R> {
    pub(crate) fn new(inner: R, encoding: &'static Encoding) -> Self {
        Transcoder {
            inner,
            // Removes a BOM of this encoding if present (UTF-16 files).
            decoder: encoding.new_decoder_with_bom_removal(),
            out: vec![0; OUT_BUF].into_boxed_slice(),
            pos: 0,
            len: 0,
            finished: false,
        }
    }
}

impl<R: BufRead> Read for Transcoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Transcoder<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos >= self.len && !self.finished {
            self.pos = 0;
            self.len = 0;
            let src = match self.inner.fill_buf() {
                Ok(src) => src,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let last = src.is_empty();
            let (result, read, written) =
                self.decoder
                    .decode_to_utf8_without_replacement(src, &mut self.out, last);
            self.inner.consume(read);
            self.len = written;
            match result {
                DecoderResult::Malformed(_, _) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "byte sequence is not valid {}",
                            self.decoder.encoding().name()
                        ),
                    ));
                }
                DecoderResult::InputEmpty if last => self.finished = true,
                DecoderResult::InputEmpty | DecoderResult::OutputFull => {}
            }
        }
        Ok(&self.out[self.pos..self.len])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.len);
    }
}

/// The byte stream quick-xml reads: always UTF-8.
pub(crate) enum Source<R> {
    Utf8(Prefixed<R>),
    Transcoded(Transcoder<Prefixed<R>>),
}

impl<R: BufRead> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Utf8(r) => r.read(buf),
            Source::Transcoded(r) => r.read(buf),
        }
    }
}

impl<R: BufRead> BufRead for Source<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self {
            Source::Utf8(r) => r.fill_buf(),
            Source::Transcoded(r) => r.fill_buf(),
        }
    }

    fn consume(&mut self, amt: usize) {
        match self {
            Source::Utf8(r) => r.consume(amt),
            Source::Transcoded(r) => r.consume(amt),
        }
    }
}

/// The longest run of bytes without a `<` the parser is given by default (see [`Guard`]).
pub const DEFAULT_MAX_ELEMENT_BYTES: usize = 16 * 1024 * 1024;

/// Why [`Guard`] stopped the input: one piece of markup or text is longer than allowed.
#[derive(Debug)]
pub(crate) struct ElementTooLarge {
    pub max: usize,
}

impl std::fmt::Display for ElementTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a single XML element or text is longer than {} MiB ({} bytes); refused so the \
             import stays within its memory",
            self.max / (1024 * 1024),
            self.max
        )
    }
}

impl std::error::Error for ElementTooLarge {}

/// Bounds what the XML parser must hold at once. quick-xml reads a whole text node or tag
/// into memory before it hands it over, so a 100 MB `Описание` would cost 100 MB before any
/// item limit is checked. Every tag starts with `<` and no text or attribute value may
/// contain one, so the bytes since the last `<` bound every event: past `max`, the input
/// fails with [`ElementTooLarge`] (the parser has buffered at most `max` bytes by then).
pub(crate) struct Guard<R> {
    inner: R,
    run: usize,
    max: usize,
    tripped: bool,
}

impl<R> Guard<R> {
    pub fn new(inner: R, max: usize) -> Self {
        Self {
            inner,
            run: 0,
            max,
            tripped: false,
        }
    }

    pub fn set_max(&mut self, max: usize) {
        self.max = max;
    }

    fn error(&self) -> io::Error {
        io::Error::other(ElementTooLarge { max: self.max })
    }
}

/// The run of bytes without `<` after `bytes`, given the run before them, and whether any
/// run (also one that ends inside `bytes`) went past `max`.
fn advance(run: usize, bytes: &[u8], max: usize) -> (usize, bool) {
    let mut parts = bytes.split(|&b| b == b'<');
    let mut run = run.saturating_add(parts.next().map_or(0, <[u8]>::len));
    let mut over = run > max;
    for part in parts {
        run = part.len();
        over |= run > max;
    }
    (run, over)
}

impl<R: BufRead> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.tripped {
            return Err(self.error());
        }
        let n = self.inner.read(buf)?;
        let (run, over) = advance(self.run, &buf[..n], self.max);
        self.run = run;
        self.tripped |= over;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Guard<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.tripped {
            return Err(self.error());
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        // The bytes consumed are the head of what fill_buf returned (no new read happens).
        if let Ok(buf) = self.inner.fill_buf() {
            let (run, over) = advance(self.run, &buf[..amt.min(buf.len())], self.max);
            self.run = run;
            self.tripped |= over;
        }
        self.inner.consume(amt);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_stops_a_long_run_without_markup() {
        let mut text = b"<a>".to_vec();
        text.extend(std::iter::repeat_n(b'x', 100));
        text.extend(b"</a><b>short</b>");
        // The longest run: `a>` and the 100 x's, until `</a>`.
        let mut ok = Guard::new(&text[..], 102);
        let mut out = Vec::new();
        ok.read_to_end(&mut out).unwrap();
        assert_eq!(out, text);
        let mut tight = Guard::new(std::io::BufReader::with_capacity(7, &text[..]), 101);
        let mut sink = Vec::new();
        let err = loop {
            match tight.fill_buf() {
                Ok([]) => panic!("a run of 102 bytes passed a limit of 101"),
                Ok(buf) => {
                    let n = buf.len();
                    sink.extend_from_slice(buf);
                    tight.consume(n);
                }
                Err(e) => break e,
            }
        };
        assert!(err.to_string().contains("longer than"), "{err}");
        assert!(
            sink.len() <= 3 + 102 + 7,
            "stopped early: {} bytes",
            sink.len()
        );
    }

    #[test]
    fn finds_declared_encoding() {
        assert_eq!(
            declared_encoding(br#"<?xml version="1.0" encoding="windows-1251"?><a/>"#).as_deref(),
            Some("windows-1251")
        );
        assert_eq!(
            declared_encoding(b"<?xml version='1.0' encoding = 'UTF-8' ?>").as_deref(),
            Some("UTF-8")
        );
        assert_eq!(declared_encoding(br#"<?xml version="1.0"?>"#), None);
        assert_eq!(declared_encoding(b"<a/>"), None);
    }

    #[test]
    fn transcodes_in_small_pieces() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode("<a>Привет, мир</a>");
        // A BufReader with a tiny buffer forces many decode calls.
        let inner = io::BufReader::with_capacity(3, &bytes[..]);
        let mut t = Transcoder::new(inner, encoding_rs::WINDOWS_1251);
        let mut out = String::new();
        t.read_to_string(&mut out).unwrap();
        assert_eq!(out, "<a>Привет, мир</a>");
    }
}
