//! Links that open the Mini App on one screen, for the owner's channel posts and for shared
//! messages: `https://t.me/<bot>?startapp=product_<id>` (and `section_<id>`, `search_<text>`).
//! Telegram allows only `A-Za-z0-9_-` in a start parameter, up to 512 characters; anything
//! else (1C ids like `abc#def`, Cyrillic search words) goes base64url-encoded after a `b64`
//! marker, which the Mini App (web/src/deeplink.ts) decodes.

use base64::Engine;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Product,
    Section,
    Search,
}

impl Screen {
    fn prefix(self) -> &'static str {
        match self {
            Screen::Product => "product",
            Screen::Section => "section",
            Screen::Search => "search",
        }
    }
}

/// Telegram's limit on a start parameter.
pub const MAX_START_PARAM: usize = 512;

fn plain(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with("b64")
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The `startapp` parameter for a screen; None when even encoded it is over Telegram's limit.
pub fn start_param(screen: Screen, value: &str) -> Option<String> {
    let param = if plain(value) {
        format!("{}_{value}", screen.prefix())
    } else {
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.as_bytes());
        format!("{}_b64{encoded}", screen.prefix())
    };
    (param.len() <= MAX_START_PARAM).then_some(param)
}

/// `https://t.me/<bot>?startapp=<param>`: the bot's main Mini App on that screen, or on its
/// home screen when the value cannot be carried.
pub fn link(username: &str, screen: Screen, value: &str) -> String {
    let username = username.trim_start_matches('@');
    match start_param(screen, value) {
        Some(p) => format!("https://t.me/{username}?startapp={p}"),
        None => format!("https://t.me/{username}?startapp"),
    }
}

/// The value of a start parameter's screen (`product_…`, `section_…`, `search_…`), decoded.
pub fn decode(param: &str, screen: Screen) -> Option<String> {
    let rest = param.strip_prefix(screen.prefix())?.strip_prefix('_')?;
    if param.len() > MAX_START_PARAM || rest.is_empty() {
        return None;
    }
    match rest.strip_prefix("b64") {
        Some(encoded) => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok()),
        None => plain(rest).then(|| rest.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_params() {
        assert_eq!(
            start_param(Screen::Product, "demo-0001").as_deref(),
            Some("product_demo-0001")
        );
        assert_eq!(
            start_param(Screen::Product, "abc#def").as_deref(),
            Some("product_b64YWJjI2RlZg")
        );
        assert_eq!(
            start_param(Screen::Search, "куртка").as_deref(),
            Some("search_b640LrRg9GA0YLQutCw")
        );
        // An id that looks encoded is encoded, so it cannot be misread.
        assert!(
            start_param(Screen::Section, "b64x")
                .unwrap()
                .starts_with("section_b64")
        );
        assert_eq!(start_param(Screen::Search, &"я".repeat(400)), None);
        assert_eq!(
            link("@shop_bot", Screen::Section, "jackets"),
            "https://t.me/shop_bot?startapp=section_jackets"
        );
        assert_eq!(
            link("shop_bot", Screen::Search, &"я".repeat(400)),
            "https://t.me/shop_bot?startapp"
        );
        for (screen, value) in [
            (Screen::Product, "abc#def"),
            (Screen::Search, "куртка зимняя"),
        ] {
            let param = start_param(screen, value).unwrap();
            assert_eq!(decode(&param, screen).as_deref(), Some(value));
        }
        assert_eq!(decode("search_b64!!", Screen::Search), None);
    }
}
