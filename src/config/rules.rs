//! Rules that read more than one section. Each takes the whole config, is named for what it
//! keeps true, and is called from `Config::validate`.

use super::*;

/// Bitrix's order statuses map onto vitrina's (only read with `backend.kind = "bitrix"`).
pub(super) fn bitrix_statuses_are_order_statuses(config: &Config) -> Result<(), ConfigError> {
    if config.backend.kind != BackendKind::Bitrix {
        return Ok(());
    }
    statuses_known("bitrix.statuses", &config.bitrix.statuses, &config.orders)
}

/// 1C's `type=sale` statuses map onto vitrina's.
pub(super) fn sale_statuses_are_order_statuses(config: &Config) -> Result<(), ConfigError> {
    statuses_known(
        "exchange_1c.sale_statuses",
        &config.exchange_1c.sale_statuses,
        &config.orders,
    )
}

/// The first value of `mapping` that is not one of `orders.statuses`, reported under `key`.
fn statuses_known(
    key: &'static str,
    mapping: &std::collections::BTreeMap<String, String>,
    orders: &OrdersConfig,
) -> Result<(), ConfigError> {
    match mapping.values().find(|s| !orders.statuses.contains(s)) {
        Some(bad) => invalid(
            key,
            format!(
                "{bad:?} is not one of orders.statuses ({})",
                orders.statuses.join(", ")
            ),
        ),
        None => Ok(()),
    }
}

/// The `telegram` payment method invoices through a payment provider's token.
pub(super) fn telegram_payments_need_provider_token(config: &Config) -> Result<(), ConfigError> {
    if config
        .checkout
        .payment_methods
        .contains(&PaymentMethod::Telegram)
        && config.telegram.payment_provider_token.is_none()
    {
        return invalid(
            "checkout.payment_methods",
            "`telegram` needs telegram.payment_provider_token (from @BotFather → Payments)",
        );
    }
    Ok(())
}

/// Dev sign-in mints initData for anyone: with a real bot token only when explicitly meant.
pub(super) fn dev_sign_in_needs_a_test_bot(config: &Config) -> Result<(), ConfigError> {
    let dev = &config.dev;
    if dev.enabled && config.telegram.has_real_bot_token() && !dev.allow_with_real_bot_token {
        return invalid(
            "dev.enabled",
            "dev sign-in together with a real telegram.bot_token lets anyone sign in as any customer; \
             turn dev.enabled off, or set dev.allow_with_real_bot_token = true if this is a private test bot",
        );
    }
    Ok(())
}

/// An order goes to one back office: with `backend.kind = "bitrix"` the 1C exchange does not
/// also serve it with `type=sale`, unless that is explicitly meant.
pub(super) fn one_order_one_system(config: &Config) -> Result<(), ConfigError> {
    let exchange = &config.exchange_1c;
    if config.backend.kind == BackendKind::Bitrix
        && exchange.is_on()
        && exchange.sale
        && !exchange.allow_sale_with_bitrix
    {
        return invalid(
            "exchange_1c.sale",
            "backend.kind = \"bitrix\" sends every order to Bitrix, and the 1C exchange (user and password set) would also hand it to 1C with type=sale: one order in two systems. Set exchange_1c.sale = false (1C then gets orders from Bitrix's own exchange), or exchange_1c.allow_sale_with_bitrix = true if both are meant",
        );
    }
    Ok(())
}

/// With online payments and a hold, an unpaid order expires: after a whole second at least,
/// into a status that returns its goods to stock.
pub(super) fn payment_hold_can_expire(config: &Config) -> Result<(), ConfigError> {
    let hold = config.checkout.payment_hold;
    if !config.checkout.takes_online_payments() || hold.is_zero() {
        return Ok(());
    }
    if hold < Duration::from_secs(1) {
        return invalid(
            "checkout.payment_hold",
            "expected a duration such as \"30m\" (or 0s to keep unpaid orders until staff cancel them)",
        );
    }
    if config.orders.restock_on.is_empty() {
        return invalid(
            "checkout.payment_hold",
            "an expired hold cancels the order with a status in orders.restock_on, which is empty",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    type Rule = fn(&Config) -> Result<(), ConfigError>;

    fn check(rule: Rule, edit: impl FnOnce(&mut Config)) -> Option<&'static str> {
        let mut c = Config::default();
        edit(&mut c);
        refused_key(rule(&c))
    }

    #[test]
    fn bitrix_statuses_must_be_order_statuses_with_the_bitrix_backend() {
        let rule: Rule = bitrix_statuses_are_order_statuses;
        let unknown = |c: &mut Config| {
            c.bitrix.statuses.insert("X".into(), "lost".into());
        };
        assert_eq!(check(rule, |c| c.backend.kind = BackendKind::Bitrix), None);
        assert_eq!(check(rule, unknown), None, "embedded backend: not read");
        assert_eq!(
            check(rule, |c| {
                c.backend.kind = BackendKind::Bitrix;
                unknown(c);
            }),
            Some("bitrix.statuses")
        );
    }

    #[test]
    fn sale_statuses_must_be_order_statuses() {
        let rule: Rule = sale_statuses_are_order_statuses;
        let map = |c: &mut Config, to: &str| {
            c.exchange_1c
                .sale_statuses
                .insert("[F] Выполнен".into(), to.into());
        };
        assert_eq!(check(rule, |c| map(c, "delivered")), None);
        assert_eq!(
            check(rule, |c| map(c, "done")),
            Some("exchange_1c.sale_statuses")
        );
        let mut c = Config::default();
        map(&mut c, "done");
        let message = rule(&c).unwrap_err().to_string();
        assert!(
            message.contains("\"done\" is not one of orders.statuses (new, confirmed"),
            "{message}"
        );
    }

    #[test]
    fn telegram_payments_need_a_provider_token() {
        let rule: Rule = telegram_payments_need_provider_token;
        let telegram = |c: &mut Config| c.checkout.payment_methods.push(PaymentMethod::Telegram);
        assert_eq!(check(rule, |_| {}), None);
        assert_eq!(check(rule, telegram), Some("checkout.payment_methods"));
        assert_eq!(
            check(rule, |c| {
                telegram(c);
                c.telegram.payment_provider_token = Some(Secret::new("381764678:TEST:1"));
            }),
            None
        );
    }

    #[test]
    fn dev_sign_in_with_a_real_bot_needs_the_second_switch() {
        let rule: Rule = dev_sign_in_needs_a_test_bot;
        let real = |c: &mut Config| {
            c.dev.enabled = true;
            c.telegram.bot_token = Some(Secret::new("123456:real"));
        };
        assert_eq!(check(rule, real), Some("dev.enabled"));
        assert_eq!(
            check(rule, |c| {
                real(c);
                c.dev.allow_with_real_bot_token = true;
            }),
            None
        );
        assert_eq!(
            check(rule, |c| {
                c.dev.enabled = true;
                c.telegram.bot_token = Some(Secret::new(DEMO_BOT_TOKEN));
            }),
            None
        );
    }

    #[test]
    fn an_order_goes_to_one_back_office() {
        let rule: Rule = one_order_one_system;
        let both = |c: &mut Config| {
            c.backend.kind = BackendKind::Bitrix;
            c.exchange_1c.user = Some("1c".into());
            c.exchange_1c.password = Some(Secret::new("pw"));
        };
        assert_eq!(check(rule, both), Some("exchange_1c.sale"));
        for undo in [
            |c: &mut Config| c.exchange_1c.sale = false,
            |c: &mut Config| c.exchange_1c.allow_sale_with_bitrix = true,
            |c: &mut Config| c.backend.kind = BackendKind::Embedded,
            |c: &mut Config| c.exchange_1c.password = None,
        ] {
            assert_eq!(
                check(rule, |c| {
                    both(c);
                    undo(c);
                }),
                None
            );
        }
    }

    #[test]
    fn a_payment_hold_expires_into_a_restocking_status() {
        let rule: Rule = payment_hold_can_expire;
        let online = |c: &mut Config| c.checkout.payment_methods.push(PaymentMethod::Stars);
        assert_eq!(check(rule, online), None);
        assert_eq!(
            check(rule, |c| {
                online(c);
                c.checkout.payment_hold = Duration::from_millis(500);
            }),
            Some("checkout.payment_hold")
        );
        assert_eq!(
            check(rule, |c| {
                online(c);
                c.orders.restock_on.clear();
            }),
            Some("checkout.payment_hold")
        );
        for off in [
            |c: &mut Config| c.checkout.payment_hold = Duration::ZERO,
            |c: &mut Config| c.checkout.payment_methods = vec![PaymentMethod::OnReceipt],
        ] {
            assert_eq!(
                check(rule, |c| {
                    online(c);
                    c.orders.restock_on.clear();
                    off(c);
                }),
                None
            );
        }
    }
}
