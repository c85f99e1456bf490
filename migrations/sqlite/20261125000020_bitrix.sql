-- The Bitrix backend: each vitrina order's counterpart in Bitrix (a sale order or a CRM
-- deal), looked up by vitrina's external key before anything is created there.
CREATE TABLE bitrix_orders (
    order_id      BIGINT PRIMARY KEY,
    bitrix_id     BIGINT,
    payment_id    BIGINT,
    -- basket, shipment, payment and properties written (the order alone is not enough)
    complete      BIGINT NOT NULL DEFAULT 0,
    -- the last Bitrix status applied here, so a poll does not apply it twice
    bitrix_status TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX bitrix_orders_bitrix_id ON bitrix_orders (bitrix_id);

-- Events received on /bitrix/events, by (event, entity, ts): a replay is refused.
CREATE TABLE bitrix_events (
    event_key   TEXT   PRIMARY KEY,
    received_at BIGINT NOT NULL
);

-- Cursors: the catalog sync's last change seen, the reconciliation poll's.
CREATE TABLE bitrix_state (
    name       TEXT   PRIMARY KEY,
    value      TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);
