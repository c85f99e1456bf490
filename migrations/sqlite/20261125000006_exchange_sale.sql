-- type=sale of the 1C exchange: which version of each order 1C has confirmed, and what the
-- last mode=query of a session sent (mode=success marks exactly that).
ALTER TABLE orders ADD COLUMN exported_1c_at BIGINT;

CREATE TABLE exchange_sale_queries (
    session_id TEXT   NOT NULL,
    order_id   BIGINT NOT NULL,
    version    BIGINT NOT NULL,
    PRIMARY KEY (session_id, order_id)
);
