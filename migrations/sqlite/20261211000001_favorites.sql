-- A customer's favourite products. The name and picture are kept from when the product was
-- added, so a product that later leaves the catalog is still shown (as unavailable).
CREATE TABLE favorites (
    customer_id BIGINT NOT NULL,
    product_id  TEXT   NOT NULL,
    name        TEXT   NOT NULL,
    image       TEXT,
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (customer_id, product_id)
);
CREATE INDEX favorites_product ON favorites (product_id);
