-- Telegram Payments. An invoice fixes what the customer will pay (Stars are converted from the
-- order's total when the invoice is made); pre_checkout_query and successful_payment are checked
-- against it. A payment is recorded once per telegram_payment_charge_id.
ALTER TABLE orders ADD COLUMN invoice_currency TEXT;
ALTER TABLE orders ADD COLUMN invoice_amount BIGINT;

CREATE TABLE payments (
    telegram_payment_charge_id TEXT   PRIMARY KEY,
    provider_payment_charge_id TEXT,
    order_id                   BIGINT NOT NULL,
    payer_telegram_id          BIGINT NOT NULL,
    currency                   TEXT   NOT NULL,
    amount                     BIGINT NOT NULL,
    state                      TEXT   NOT NULL CHECK (state IN ('paid', 'refunded')),
    created_at                 BIGINT NOT NULL,
    refunded_at                BIGINT
);
CREATE INDEX payments_order ON payments (order_id);
