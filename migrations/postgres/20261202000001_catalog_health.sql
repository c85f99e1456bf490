-- The price an offer had before its discount, shown struck through beside `price` (NULL: no
-- discount). From the price type named by catalog.old_price_type (1C) or
-- bitrix.old_price_type_id (Bitrix), kept only when above the price customers pay.
ALTER TABLE offers ADD COLUMN old_price BIGINT;

-- VAT of an offer as the catalog states it (Bitrix: the product's vatId), for 54-FZ receipts:
-- `none` (без НДС) or a rate in percent (`0`, `5`, `7`, `10`, `20`, `22`).
CREATE TABLE offer_vat (
    offer_id TEXT PRIMARY KEY,
    vat      TEXT NOT NULL
);

-- Each catalog source's health: the last success, the last failure and why, since when it
-- has been failing (NULL: it is not), and whether the staff chat was told.
CREATE TABLE sync_health (
    source          TEXT   PRIMARY KEY,
    last_success_at BIGINT,
    last_failure_at BIGINT,
    last_error      TEXT,
    failing_since   BIGINT,
    failures        BIGINT NOT NULL DEFAULT 0,
    alerted         BIGINT NOT NULL DEFAULT 0
);

-- Catalog elements Bitrix told about by an event (CATALOG.PRODUCT.ON.*), waiting for their
-- stock and activity to be read (`deleted` = 1: the event said it is gone).
CREATE TABLE bitrix_dirty (
    element_id  BIGINT PRIMARY KEY,
    deleted     BIGINT NOT NULL DEFAULT 0,
    received_at BIGINT NOT NULL
);
