-- Back-in-stock and price-drop alerts. `base_*` is the offer as the customer saw it when
-- subscribing: a publish that lowers the price below `base_price`, or brings an offer that
-- was out of stock back (`base_in_stock` 0), makes the subscription `due`; the bot sends one
-- message and it becomes `notified`. `gone`: the offer left the catalog, nothing sent;
-- `blocked`: the customer blocked the bot; `cancelled`: the customer unsubscribed.
CREATE TABLE subscriptions (
    id            BIGSERIAL PRIMARY KEY,
    customer_id   BIGINT NOT NULL,
    offer_id      TEXT   NOT NULL,
    product_id    TEXT   NOT NULL,
    kind          TEXT   NOT NULL CHECK (kind IN ('back_in_stock', 'price_drop')),
    base_price    BIGINT,
    base_in_stock BIGINT NOT NULL,
    state         TEXT   NOT NULL DEFAULT 'open'
                  CHECK (state IN ('open', 'due', 'notified', 'gone', 'blocked', 'cancelled')),
    created_at    BIGINT NOT NULL,
    closed_at     BIGINT
);
-- One open subscription per customer, offer and kind.
CREATE UNIQUE INDEX subscriptions_open ON subscriptions (customer_id, offer_id, kind) WHERE state = 'open';
CREATE INDEX subscriptions_state ON subscriptions (state, offer_id);
