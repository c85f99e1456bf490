//! `application/x-www-form-urlencoded` parsing and serialisation, kept strict and
//! allocation-light: values are decoded exactly once and hashed as decoded.

use std::borrow::Cow;

use crate::Error;

/// Real initData carries about a dozen fields; anything far beyond that is not
/// from Telegram and is refused before any sorting or hashing.
const MAX_FIELDS: usize = 64;

/// Longest key echoed back in [`Error::DuplicateKey`].
const MAX_KEY_IN_ERROR: usize = 64;

/// One decoded `key=value` pair.
pub(crate) type Pair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// Splits `raw` on `&`, decodes every key and value (`+` is a space, `%XX` is a
/// byte, the result must be UTF-8), and returns the pairs sorted by key.
///
/// Empty segments (`a=1&&b=2`, a trailing `&`) are skipped like browsers do; a
/// segment without `=`, an empty key, a broken escape, invalid UTF-8 or a repeated
/// key is an error.
pub(crate) fn parse_sorted(raw: &str) -> Result<Vec<Pair<'_>>, Error> {
    let mut pairs: Vec<Pair<'_>> = Vec::with_capacity(12);
    for segment in raw.split('&').filter(|s| !s.is_empty()) {
        if pairs.len() == MAX_FIELDS {
            return Err(Error::Malformed(format!("more than {MAX_FIELDS} fields")));
        }
        let (key, value) = segment
            .split_once('=')
            .ok_or_else(|| Error::Malformed("a field has no `=`".into()))?;
        let key = decode(key)
            .ok_or_else(|| Error::Malformed("a key is not valid form encoding".into()))?;
        if key.is_empty() {
            return Err(Error::Malformed("a field has an empty key".into()));
        }
        let value = decode(value).ok_or_else(|| {
            Error::Malformed(format!(
                "the value of `{}` is not valid form encoding",
                truncate(&key)
            ))
        })?;
        pairs.push((key, value));
    }
    pairs.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let duplicate = pairs.windows(2).find_map(|w| match w {
        [a, b] if a.0 == b.0 => Some(truncate(&a.0).to_owned()),
        _ => None,
    });
    if let Some(key) = duplicate {
        return Err(Error::DuplicateKey(key));
    }
    Ok(pairs)
}

/// Decodes one form-encoded component; `None` on a broken `%` escape or invalid UTF-8.
fn decode(s: &str) -> Option<Cow<'_, str>> {
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return Some(Cow::Borrowed(s));
    }
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.next().and_then(hex_value)?;
                let lo = bytes.next().and_then(hex_value)?;
                out.push(hi << 4 | lo);
            }
            other => out.push(other),
        }
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-encodes everything except RFC 3986 unreserved characters, so the
/// output survives any query-string parser (space becomes `%20`, as Telegram sends it).
pub(crate) fn encode_into(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
}

fn truncate(key: &str) -> &str {
    match key.char_indices().nth(MAX_KEY_IN_ERROR) {
        Some((i, _)) => &key[..i],
        None => key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_escapes() {
        assert_eq!(decode("a+b%20c%2B%C3%A9").as_deref(), Some("a b c+é"));
        assert_eq!(decode("plain").as_deref(), Some("plain"));
        assert_eq!(decode("%5C%2F").as_deref(), Some("\\/"));
    }

    #[test]
    fn rejects_broken_escapes_and_bad_utf8() {
        for bad in ["%", "%2", "%zz", "%g0", "%C3", "%FF", "a%2"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn encode_roundtrips() {
        let s = "Vladislav + - ? \\/ é & = {\"a\":1}\n";
        let mut out = String::new();
        encode_into(&mut out, s);
        assert!(
            out.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b))
        );
        assert_eq!(decode(&out).as_deref(), Some(s));
    }

    #[test]
    fn sorts_and_skips_empty_segments() {
        let pairs = parse_sorted("b=2&&a=1&").unwrap();
        let keys: Vec<_> = pairs.iter().map(|p| p.0.as_ref()).collect();
        assert_eq!(keys, ["a", "b"]);
    }

    #[test]
    fn duplicate_key_is_named_but_value_is_not() {
        let err = parse_sorted("hash=secretvalue&a=1&hash=other").unwrap_err();
        assert_eq!(err, Error::DuplicateKey("hash".into()));
        assert!(!err.to_string().contains("secretvalue"));
        // Keys are compared after decoding.
        assert_eq!(
            parse_sorted("a=1&%61=2").unwrap_err(),
            Error::DuplicateKey("a".into())
        );
    }

    #[test]
    fn too_many_fields() {
        let raw: Vec<String> = (0..=MAX_FIELDS).map(|i| format!("k{i}=v")).collect();
        assert!(matches!(
            parse_sorted(&raw.join("&")),
            Err(Error::Malformed(_))
        ));
    }
}
