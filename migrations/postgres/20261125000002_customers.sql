-- Shop customers, one per Telegram user; upserted on every successful initData check.
CREATE TABLE customers (
    id                 BIGSERIAL PRIMARY KEY,
    telegram_id        BIGINT  NOT NULL UNIQUE,
    first_name         TEXT    NOT NULL DEFAULT '',
    last_name          TEXT,
    username           TEXT,
    language_code      TEXT,
    is_premium         BIGINT  NOT NULL DEFAULT 0,
    photo_url          TEXT,
    allows_write_to_pm BIGINT  NOT NULL DEFAULT 0,
    phone              TEXT,
    -- the seam for the Bitrix backend: the linked Bitrix user (UF_TELEGRAM_ID)
    bitrix_user_id     BIGINT,
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL,
    last_seen_at       BIGINT  NOT NULL
);

-- Keys the instances of one shop share (e.g. the session token key), created once by
-- whichever instance starts first.
CREATE TABLE app_secrets (
    name       TEXT   PRIMARY KEY,
    value      TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
