-- Carts: one per customer, lines by offer. The price seen when adding is kept to tell the
-- customer what changed since.
CREATE TABLE cart_lines (
    customer_id  BIGINT NOT NULL,
    offer_id     TEXT   NOT NULL,
    quantity     BIGINT NOT NULL CHECK (quantity > 0),
    price_seen   BIGINT,
    added_at     BIGINT NOT NULL,
    PRIMARY KEY (customer_id, offer_id)
);

CREATE TABLE orders (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    number           TEXT   NOT NULL UNIQUE,
    customer_id      BIGINT NOT NULL,
    status           TEXT   NOT NULL,
    payment_state    TEXT   NOT NULL DEFAULT 'unpaid',
    payment_method   TEXT   NOT NULL,
    delivery_method  TEXT   NOT NULL,
    delivery_price   BIGINT NOT NULL,
    pickup_point     TEXT,
    address          TEXT,
    contact_name     TEXT   NOT NULL,
    contact_phone    TEXT   NOT NULL,
    comment          TEXT,
    items_total      BIGINT NOT NULL,
    total            BIGINT NOT NULL,
    currency         TEXT   NOT NULL,
    -- the client's Idempotency-Key and a hash of what it sent with it
    idempotency_key  TEXT   NOT NULL,
    request_hash     TEXT   NOT NULL,
    -- the order's id in Bitrix or 1C, once exported
    external_id      TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    UNIQUE (customer_id, idempotency_key)
);
CREATE INDEX orders_customer ON orders (customer_id, id);

-- What was bought, as it was at order time (the catalog may change later).
CREATE TABLE order_items (
    order_id   BIGINT NOT NULL,
    position   BIGINT NOT NULL,
    offer_id   TEXT   NOT NULL,
    product_id TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    variant    TEXT,
    price      BIGINT NOT NULL,
    quantity   BIGINT NOT NULL,
    total      BIGINT NOT NULL,
    PRIMARY KEY (order_id, position)
);

-- The status timeline: every change, who made it, when.
CREATE TABLE order_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id   BIGINT NOT NULL,
    status     TEXT   NOT NULL,
    note       TEXT,
    actor      TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX order_events_order ON order_events (order_id, id);
