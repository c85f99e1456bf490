//! Inline mode: `@shop_bot куртка` in any chat. The bot answers the `inline_query` with
//! products found by the catalog's own search (the same morphology, typo and keyboard-layout
//! rules as the Mini App), a page at a time (`next_offset`); each result carries a button that
//! opens the Mini App on the product (`https://t.me/<bot>?startapp=product_<id>`).

use serde_json::{Value, json};

use crate::catalog::http::{LARGE, THUMB, image_url};
use crate::catalog::snapshot::{Product, Snapshot, SortKey};
use crate::outbox::JobError;
use crate::telegram::texts::{Lang, money};
use crate::telegram::update::InlineQuery;
use crate::telegram::{Bot, BotError};

/// Results per answer (the Bot API allows 50).
pub const PAGE: usize = 20;
/// Seconds Telegram may cache an answer: short, so a new catalog version shows soon.
pub const CACHE_TIME: u32 = 60;
/// Telegram sends at most 256 characters; a query that long is not a product search.
const MAX_QUERY: usize = 256;

/// The products matching `query` on the page at `offset`, and the next page's offset.
pub fn page<'a>(
    snapshot: &'a Snapshot,
    query: &str,
    offset: usize,
) -> (Vec<&'a Product>, Option<usize>) {
    let query = query.trim();
    if query.chars().count() >= MAX_QUERY {
        return (Vec::new(), None);
    }
    let docs: Vec<u32> = if query.is_empty() {
        // Nothing typed yet: the shop's most popular products.
        snapshot.order(SortKey::Popular).to_vec()
    } else if !query.chars().any(char::is_alphanumeric) {
        // Only punctuation: nothing to search for.
        Vec::new()
    } else {
        crate::catalog::http::search_hits(snapshot, query)
    };
    let products: Vec<&Product> = docs
        .iter()
        .skip(offset)
        .take(PAGE + 1)
        .filter_map(|&d| snapshot.products.get(d as usize))
        .collect();
    let more = products.len() > PAGE;
    let mut products = products;
    products.truncate(PAGE);
    (products, more.then_some(offset + PAGE))
}

/// `https://t.me/<bot>?startapp=product_<id>`: the bot's main Mini App on the product.
pub fn product_link(username: &str, product_id: &str) -> String {
    super::links::link(username, super::links::Screen::Product, product_id)
}

fn stock_text(lang: Lang, p: &Product) -> &'static str {
    match (lang, p.in_stock) {
        (Lang::Ru, true) => "в наличии",
        (Lang::Ru, false) => "нет в наличии",
        (Lang::En, true) => "in stock",
        (Lang::En, false) => "out of stock",
    }
}

fn open_text(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "Открыть в магазине",
        Lang::En => "Open in the shop",
    }
}

/// One result: a photo with its thumbnail when the product has a picture, else an article.
pub fn result(bot: &Bot, username: &str, lang: Lang, index: usize, p: &Product) -> Value {
    let price = if p.max_price > p.min_price {
        match lang {
            Lang::Ru => format!("от {}", money(p.min_price, &p.currency)),
            Lang::En => format!("from {}", money(p.min_price, &p.currency)),
        }
    } else {
        money(p.min_price, &p.currency)
    };
    let line = format!("{price} · {}", stock_text(lang, p));
    let text = format!("{}\n{line}", p.name);
    let markup = json!({"inline_keyboard": [[{"text": open_text(lang), "url": product_link(username, &p.id)}]]});
    // Unique within the answer, at most 64 bytes whatever the product ids are.
    let id = format!("{index}");
    match p.images.first() {
        Some(hash) => json!({
            "type": "photo",
            "id": id,
            "photo_url": bot.url(&image_url(hash, LARGE)),
            "thumbnail_url": bot.url(&image_url(hash, THUMB)),
            "title": p.name,
            "description": line,
            "caption": text,
            "reply_markup": markup,
        }),
        None => json!({
            "type": "article",
            "id": id,
            "title": p.name,
            "description": line,
            "input_message_content": {"message_text": text},
            "reply_markup": markup,
        }),
    }
}

/// The bot's username (from `getMe`, asked once).
pub async fn username(bot: &Bot) -> Result<String, JobError> {
    bot.username
        .get_or_try_init(|| async {
            let me = bot
                .api
                .call("getMe", &json!({}))
                .await
                .map_err(|e| JobError::retry(e.to_string()))?;
            me.get("username")
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| JobError::Permanent("getMe without a username".into()))
        })
        .await
        .cloned()
}

/// Answers one `inline_query` update.
pub async fn answer(bot: &Bot, query: &InlineQuery) -> Result<(), JobError> {
    let id = query.id.as_str();
    let text = query.query.as_str();
    // The offset is ours (a `next_offset` we sent); anything else starts from the top.
    let offset: usize = query.offset.parse().unwrap_or(0);
    let lang = Lang::of(query.from.language_code.as_deref());
    let username = username(bot).await?;
    let snapshot = bot.catalog.snapshot();
    let (products, next) = page(&snapshot, text, offset);
    let results: Vec<Value> = products
        .iter()
        .enumerate()
        .map(|(i, p)| result(bot, &username, lang, offset + i, p))
        .collect();
    let params = json!({
        "inline_query_id": id,
        "results": results,
        "cache_time": CACHE_TIME,
        "next_offset": next.map(|n| n.to_string()).unwrap_or_default(),
    });
    match bot.api.call("answerInlineQuery", &params).await {
        Ok(_) => Ok(()),
        Err(BotError::RetryAfter(after)) => Err(JobError::Retry {
            after: Some(after),
            message: "Telegram: 429 Too Many Requests".into(),
        }),
        Err(e @ BotError::Unavailable(_)) => Err(JobError::retry(e.to_string())),
        // An answer Telegram refuses (the query expired: "query is too old") is not retried:
        // the user has typed on.
        Err(e) => {
            tracing::warn!(error = %e, "inline query not answered");
            Ok(())
        }
    }
}
