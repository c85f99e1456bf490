/// docs/CONFIG.md's block titled "as the defaults are" says what the defaults are.
#[test]
fn the_documented_defaults_are_the_defaults() {
    let doc = include_str!("../../docs/CONFIG.md");
    let start = doc
        .find("as the defaults are")
        .expect("the defaults example");
    let block = &doc[start..];
    let block = &block[block.find("```toml").expect("a toml block") + 7..];
    let block = &block[..block.find("```").expect("the block's end")];
    let parsed: Config = Figment::new()
        .merge(Toml::string(block))
        .extract()
        .expect("the example parses");
    let defaults = Config::default();
    let json = |v: &dyn erased::Ser| v.json();
    assert_eq!(
        json(&parsed.checkout.payment_methods),
        json(&defaults.checkout.payment_methods)
    );
    assert_eq!(
        json(&parsed.checkout.delivery),
        json(&defaults.checkout.delivery)
    );
    assert_eq!(
        json(&parsed.orders.transitions),
        json(&defaults.orders.transitions)
    );
}

mod erased {
    pub trait Ser {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Ser for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}

#[test]
fn bitrix_with_1c_orders_is_refused_unless_meant() {
    let mut c = Config::default();
    c.backend.kind = BackendKind::Bitrix;
    c.bitrix.webhook_url = Some(Secret::new("https://b.example.ru/rest/1/x/"));
    c.exchange_1c.user = Some("1c".into());
    c.exchange_1c.password = Some(Secret::new("p"));
    let err = c.validate().unwrap_err().to_string();
    assert!(
        err.contains("exchange_1c.sale") && err.contains("two systems"),
        "{err}"
    );
    c.exchange_1c.sale = false;
    assert!(c.validate().is_ok());
    c.exchange_1c.sale = true;
    c.exchange_1c.allow_sale_with_bitrix = true;
    assert!(c.validate().is_ok());
}
use super::*;
use std::io::Write;

#[allow(clippy::result_large_err)] // figment's Jail API, test-only
fn load_str(toml: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(toml.as_bytes()).expect("write");
    figment::Jail::expect_with(|jail| {
        jail.clear_env();
        for (k, v) in env {
            jail.set_env(k, v);
        }
        let result = Config::load(Some(file.path()));
        // Jail wants a figment error; we carry ours out through a cell instead.
        RESULT.with(|r| *r.borrow_mut() = Some(result));
        Ok(())
    });
    RESULT.with(|r| r.borrow_mut().take()).expect("jail ran")
}

thread_local! {
    static RESULT: std::cell::RefCell<Option<Result<Config, ConfigError>>> = const { std::cell::RefCell::new(None) };
}

#[test]
fn defaults_are_valid() {
    let config = load_str("", &[]).expect("defaults load");
    assert!(config.is_sqlite());
    assert_eq!(
        config.telegram.init_data_max_age,
        Duration::from_secs(86400)
    );
}

#[test]
fn mistyped_key_is_named() {
    let err = load_str("[server]\nlisen = \"127.0.0.1:1\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("lisen"), "{err}");
    assert!(err.contains("listen"), "suggests the known keys: {err}");
}

#[test]
fn unknown_section_is_named() {
    let err = load_str("[telegramm]\nbot_token = \"1:a\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("telegramm"), "{err}");
}

#[test]
fn bad_value_names_key_and_expectation() {
    let err = load_str("[server]\nlisten = \"not an address\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("server.listen"), "{err}");
    let err = load_str("[telegram]\ninit_data_max_age = \"soon\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("telegram.init_data_max_age"), "{err}");
    let err = load_str("[server]\npublic_url = \"shop.example.com\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("server.public_url") && err.contains("absolute"),
        "{err}"
    );
}

#[test]
fn order_properties_by_id_or_code_from_file_and_env() {
    let config = load_str(
        "[bitrix]\norder_properties = { name = 1, phone = \"PHONE\", comment = \"20\" }\n",
        &[
            ("VITRINA_BITRIX__ORDER_PROPERTIES__EMAIL", "EMAIL"),
            ("VITRINA_BITRIX__ORDER_PROPERTIES__ADDRESS", "7"),
        ],
    )
    .unwrap();
    let p = &config.bitrix.order_properties;
    assert_eq!(p["name"], PropertyRef::Id(1));
    assert_eq!(p["phone"], PropertyRef::Code("PHONE".into()));
    assert_eq!(p["comment"], PropertyRef::Id(20));
    assert_eq!(p["email"], PropertyRef::Code("EMAIL".into()));
    assert_eq!(p["address"], PropertyRef::Id(7));
}

#[test]
fn env_overrides_file_and_unknown_env_key_fails() {
    let config = load_str(
        "[server]\nlisten = \"127.0.0.1:1\"\n",
        &[
            ("VITRINA_SERVER__LISTEN", "127.0.0.1:2"),
            ("VITRINA_TELEGRAM__STAFF_CHAT_ID", "-100123"),
        ],
    )
    .expect("loads");
    assert_eq!(config.server.listen.port(), 2);
    assert_eq!(config.telegram.staff_chat_id, Some(-100123));
    let err = load_str("", &[("VITRINA_TELEGRAM__BOT_TOKN", "1:x")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("bot_tokn"), "{err}");
}

#[test]
fn numeric_secret_from_env_is_text() {
    let config = load_str(
        "",
        &[
            ("VITRINA_EXCHANGE_1C__USER", "1c"),
            ("VITRINA_EXCHANGE_1C__PASSWORD", "123456"),
        ],
    )
    .expect("loads");
    assert_eq!(
        config.exchange_1c.password.as_ref().map(Secret::expose),
        Some("123456")
    );
}

#[test]
fn secrets_are_redacted_everywhere() {
    let config = load_str(
            "[telegram]\nbot_token = \"123456:SECRET-token_value\"\npayment_provider_token = \"PROVIDERSECRET\"\n\
             [bitrix]\nwebhook_url = \"https://portal.example.ru/rest/1/WEBHOOKSECRET/\"\napplication_token = \"APPTOKENSECRET\"\n\
             [exchange_1c]\nuser = \"1c\"\npassword = \"PASSWORDSECRET\"\n\
             [database]\nurl = \"postgres://shop:DBSECRET@db/shop\"\n",
            &[],
        )
        .expect("loads");
    let rendered = [format!("{config:?}"), config.to_redacted_toml()];
    for text in rendered {
        for secret in [
            "SECRET-token",
            "PROVIDERSECRET",
            "WEBHOOKSECRET",
            "APPTOKENSECRET",
            "PASSWORDSECRET",
            "DBSECRET",
        ] {
            assert!(!text.contains(secret), "{secret} leaked in {text}");
        }
        assert!(text.contains("[redacted]"));
    }
}

#[test]
fn bad_bot_token_is_rejected_without_echoing_it() {
    let err = load_str("[telegram]\nbot_token = \"oops no colon\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("telegram.bot_token") && !err.contains("oops"),
        "{err}"
    );
}

#[test]
fn bitrix_statuses_must_be_vitrina_statuses() {
    let err = load_str(
            "[backend]\nkind = \"bitrix\"\n[bitrix]\nwebhook_url = \"https://p.example.ru/rest/1/x/\"\nstatuses = { N = \"neu\" }\n",
            &[],
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bitrix.statuses") && err.contains("neu"),
        "{err}"
    );
}

#[test]
fn redacts_database_password() {
    assert_eq!(
        redact_url("postgres://u:pw@h:5432/db"),
        "postgres://u:[redacted]@h:5432/db"
    );
    assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
}

#[test]
fn validate_reports_a_cause_before_what_it_breaks() {
    // An empty status list would make every mapped status "unknown"; the list is named first.
    let mut c = Config::default();
    c.orders.statuses.clear();
    c.orders.transitions.clear();
    c.exchange_1c
        .sale_statuses
        .insert("[F] Выполнен".into(), "delivered".into());
    assert_eq!(refused_key(c.validate()), Some("orders.statuses"));
    // A section's own check comes before a rule that reads it with another section.
    let mut c = Config::default();
    c.backend.kind = BackendKind::Bitrix;
    c.bitrix.statuses.insert("X".into(), "lost".into());
    assert_eq!(refused_key(c.validate()), Some("bitrix.webhook_url"));
    c.bitrix.webhook_url = Some(Secret::new("https://b.example.ru/rest/1/x/"));
    assert_eq!(refused_key(c.validate()), Some("bitrix.statuses"));
    // Server before everything: a broken public_url is what an operator sees first.
    let mut c = Config::default();
    c.server.public_url = "shop".into();
    c.outbox.max_attempts = 0;
    c.checkout.payment_methods.clear();
    assert_eq!(refused_key(c.validate()), Some("server.public_url"));
}

#[test]
fn bot_and_shop_sections() {
    let c = load_str(
        "[bot]\ncart_reminder_after = \"0s\"\nquiet_hours = \"23:30-07:00\"\n[shop]\ntime_zone = \"Asia/Yekaterinburg\"\n",
        &[],
    )
    .expect("loads");
    assert!(c.bot.cart_reminder_after.is_zero());
    assert_eq!(
        (c.bot.quiet_hours.start, c.bot.quiet_hours.end),
        (23 * 60 + 30, 7 * 60)
    );
    let defaults = Config::default();
    assert_eq!(
        defaults.bot.cart_reminder_after,
        Duration::from_secs(3 * 3600)
    );
    assert_eq!(String::from(defaults.bot.quiet_hours), "22:00-09:00");
    let c = load_str("[shop]\ntime_zone = \"Asia/Yekaterinburg\"\n", &[]).unwrap();
    assert_eq!(
        c.shop.utc_offset_ms(),
        5 * 3_600_000,
        "the desk's days start at local midnight"
    );
    assert_eq!(Config::default().shop.utc_offset_ms(), 3 * 3_600_000);
    let err = load_str("[shop]\ntime_zone = \"Moscow/Europe\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("shop.time_zone"), "{err}");
    let err = load_str("[bot]\nquiet_hours = \"late\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("quiet_hours"), "{err}");
}
