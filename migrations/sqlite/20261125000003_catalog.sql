-- The catalog. External ids (1C's Ид, Bitrix ids) are the keys, so every import is an upsert.
-- Each row carries the catalog version that last wrote it; a full import removes the rows it
-- did not write, inside the same transaction that records the new version, so readers see
-- the old catalog or the new one, never half.
CREATE TABLE catalog_versions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT   NOT NULL CHECK (kind IN ('full', 'changes')),
    source     TEXT   NOT NULL,
    stats      TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE sections (
    id          TEXT   PRIMARY KEY,
    parent_id   TEXT,
    name        TEXT   NOT NULL,
    description TEXT,
    sort        BIGINT NOT NULL DEFAULT 0,
    version     BIGINT NOT NULL
);

CREATE TABLE properties (
    id         TEXT   PRIMARY KEY,
    name       TEXT   NOT NULL,
    value_type TEXT   NOT NULL,
    -- JSON object {value_id: text} for reference (Справочник) properties
    variants   TEXT   NOT NULL DEFAULT '{}',
    version    BIGINT NOT NULL
);

CREATE TABLE price_types (
    id       TEXT   PRIMARY KEY,
    name     TEXT   NOT NULL,
    currency TEXT,
    version  BIGINT NOT NULL
);

CREATE TABLE warehouses (
    id      TEXT   PRIMARY KEY,
    name    TEXT   NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE products (
    id          TEXT   PRIMARY KEY,
    article     TEXT,
    barcode     TEXT,
    name        TEXT   NOT NULL,
    description TEXT,
    section_id  TEXT,
    unit        TEXT,
    -- JSON [{"id", "name", "values": [text]}], reference values resolved to their text
    properties  TEXT   NOT NULL DEFAULT '[]',
    -- JSON [image hash], in order
    images      TEXT   NOT NULL DEFAULT '[]',
    popularity  BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL
);
CREATE INDEX products_section ON products (section_id);

CREATE TABLE offers (
    id              TEXT   PRIMARY KEY,
    product_id      TEXT   NOT NULL,
    name            TEXT,
    article         TEXT,
    barcode         TEXT,
    -- JSON [{"name", "value"}]; NULL until a file describes the offer
    characteristics TEXT,
    -- the retail price (catalog.retail_price_type) in minor units
    price           BIGINT,
    currency        TEXT,
    -- quantity in thousandths: 1C quantities can be fractional (2.383 m2); NULL: unknown
    stock_milli     BIGINT,
    version         BIGINT NOT NULL
);
CREATE INDEX offers_product ON offers (product_id);

CREATE TABLE offer_prices (
    offer_id      TEXT   NOT NULL,
    price_type_id TEXT   NOT NULL,
    amount        BIGINT NOT NULL,
    currency      TEXT   NOT NULL,
    PRIMARY KEY (offer_id, price_type_id)
);

CREATE TABLE images (
    hash        TEXT   PRIMARY KEY,
    mime        TEXT   NOT NULL,
    bytes       BIGINT NOT NULL,
    source_name TEXT,
    created_at  BIGINT NOT NULL
);
