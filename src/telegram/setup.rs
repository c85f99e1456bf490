//! `vitrina telegram setup`: everything the shop's bot needs, set through the Bot API, safe to
//! run again: the webhook (with a secret and the update types vitrina handles), the menu button
//! that opens the Mini App, commands in Russian and English, and the bot's descriptions.

use serde_json::{Value, json};

use super::{ALLOWED_UPDATES, BotApi, BotError};
use crate::config::{Config, UpdatesMode};

/// The calls `setup` makes, in order: (method, params).
pub fn plan(config: &Config, webhook_secret: &str) -> Vec<(&'static str, Value)> {
    let url = config.server.public_url.trim_end_matches('/').to_string();
    let commands = |start: &str, orders: &str, help: &str| {
        json!([
            {"command": "start", "description": start},
            {"command": "orders", "description": orders},
            {"command": "help", "description": help},
        ])
    };
    let mut calls = vec![("getMe", json!({}))];
    match config.telegram.updates {
        UpdatesMode::Webhook => calls.push((
            "setWebhook",
            json!({
                "url": format!("{url}/telegram/webhook"),
                "secret_token": webhook_secret,
                "allowed_updates": ALLOWED_UPDATES,
                "max_connections": 40,
            }),
        )),
        UpdatesMode::Polling => calls.push(("deleteWebhook", json!({}))),
    }
    calls.extend([
        (
            "setChatMenuButton",
            json!({"menu_button": {"type": "web_app", "text": "Магазин", "web_app": {"url": format!("{url}/")}}}),
        ),
        (
            "setMyCommands",
            json!({"commands": commands("Открыть магазин", "Мои заказы", "Помощь")}),
        ),
        (
            "setMyCommands",
            json!({"commands": commands("Открыть магазин", "Мои заказы", "Помощь"), "language_code": "ru"}),
        ),
        (
            "setMyCommands",
            json!({"commands": commands("Open the shop", "My orders", "Help"), "language_code": "en"}),
        ),
        (
            "setMyDescription",
            json!({"description": "Каталог, корзина и заказы магазина — прямо в Telegram. Нажмите «Начать», затем «Магазин»."}),
        ),
        (
            "setMyDescription",
            json!({"description": "The shop's catalog, cart and orders inside Telegram. Tap Start, then Shop.", "language_code": "en"}),
        ),
        (
            "setMyShortDescription",
            json!({"short_description": "Магазин в Telegram: каталог, корзина, заказы"}),
        ),
        (
            "setMyShortDescription",
            json!({"short_description": "The shop in Telegram: catalog, cart, orders", "language_code": "en"}),
        ),
    ]);
    // `/desk` for the staff chat's members only: a chat scope replaces the default list
    // there, so it carries the customer commands too.
    if let Some(staff) = config.telegram.staff_chat_id {
        let with_desk = |start: &str, orders: &str, help: &str, desk: &str| {
            let mut list = commands(start, orders, help);
            if let Some(a) = list.as_array_mut() {
                a.push(json!({"command": "desk", "description": desk}));
            }
            list
        };
        let scope = json!({"type": "chat", "chat_id": staff});
        calls.extend([
            (
                "setMyCommands",
                json!({"commands": with_desk("Открыть магазин", "Мои заказы", "Помощь", "Пульт: заказы и продажи"), "scope": scope}),
            ),
            (
                "setMyCommands",
                json!({"commands": with_desk("Open the shop", "My orders", "Help", "Desk: orders and sales"), "scope": scope, "language_code": "en"}),
            ),
        ]);
    }
    calls
}

/// Prints the plan (`dry_run`) or carries it out, one line per call.
pub async fn run(
    config: &Config,
    api: Option<&BotApi>,
    webhook_secret: &str,
    dry_run: bool,
) -> Result<(), BotError> {
    for (method, params) in plan(config, webhook_secret) {
        let shown = redact(&params);
        if dry_run {
            println!("{method} {shown}");
            continue;
        }
        let Some(api) = api else {
            return Err(BotError::Rejected {
                code: 0,
                description: "telegram.bot_token is not set".into(),
            });
        };
        let result = api.call(method, &params).await?;
        if method == "getMe" {
            let name = result
                .get("username")
                .and_then(Value::as_str)
                .unwrap_or("?");
            println!("ok   getMe: @{name}");
            // Inline mode (sharing products into any chat) is switched on in @BotFather only.
            if result
                .get("supports_inline_queries")
                .and_then(Value::as_bool)
                == Some(true)
            {
                println!("ok   inline mode is on: @{name} <words> in any chat shares products");
            } else {
                println!(
                    "note inline mode is off: send /setinline to @BotFather, pick @{name} and give a placeholder (e.g. «Поиск товаров») so customers can share products into any chat"
                );
            }
        } else {
            println!("ok   {method}");
        }
    }
    Ok(())
}

fn redact(params: &Value) -> Value {
    let mut p = params.clone();
    if p.get("secret_token").is_some() {
        p["secret_token"] = json!("<secret>");
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_sets_webhook_menu_and_commands() {
        let mut config = Config::default();
        config.server.public_url = "https://shop.example.com/".into();
        let plan = plan(&config, "s3cret");
        let methods: Vec<&str> = plan.iter().map(|(m, _)| *m).collect();
        assert_eq!(methods[..3], ["getMe", "setWebhook", "setChatMenuButton"]);
        assert_eq!(
            plan[1].1["url"],
            "https://shop.example.com/telegram/webhook"
        );
        assert_eq!(plan[1].1["secret_token"], "s3cret");
        assert_eq!(
            plan[2].1["menu_button"]["web_app"]["url"],
            "https://shop.example.com/"
        );
        assert_eq!(redact(&plan[1].1)["secret_token"], "<secret>");
        assert!(
            !plan.iter().any(|(_, p)| p.get("scope").is_some()),
            "no staff chat, no scoped commands"
        );
        config.telegram.staff_chat_id = Some(-100500);
        let scoped: Vec<_> = super::plan(&config, "x")
            .into_iter()
            .filter(|(_, p)| p.get("scope").is_some())
            .collect();
        assert_eq!(scoped.len(), 2);
        for (method, p) in &scoped {
            assert_eq!(*method, "setMyCommands");
            assert_eq!(
                p["scope"],
                serde_json::json!({"type": "chat", "chat_id": -100500})
            );
            assert_eq!(p["commands"][3]["command"], "desk");
        }
        config.telegram.updates = UpdatesMode::Polling;
        assert_eq!(super::plan(&config, "x")[1].0, "deleteWebhook");
    }
}
