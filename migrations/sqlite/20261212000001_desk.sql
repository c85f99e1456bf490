-- The staff desk (issue 22).

-- The funnel: events counted per day of the shop (days since 1970-01-01 in orders.utc_offset)
-- and kind (app_open, product_view, cart, checkout). No personal data.
CREATE TABLE funnel_days (
    day   BIGINT NOT NULL,
    kind  TEXT   NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (day, kind)
);

-- Who was counted on the current and the previous day, so each customer counts once per day
-- and kind (and product); older rows are removed.
CREATE TABLE funnel_seen (
    day         BIGINT NOT NULL,
    kind        TEXT   NOT NULL,
    customer_id BIGINT NOT NULL,
    subject     TEXT   NOT NULL,
    PRIMARY KEY (day, kind, customer_id, subject)
);

-- A timeline entry is a status change (`status`) or a staff message to the customer
-- (`message`, the text in `note`).
ALTER TABLE order_events ADD COLUMN kind TEXT NOT NULL DEFAULT 'status';

-- The desk lists and sums orders by when they were placed.
CREATE INDEX orders_created ON orders (created_at);
