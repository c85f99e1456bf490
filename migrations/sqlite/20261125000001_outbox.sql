-- Outbox: every external side effect (bot message, Bitrix call) is a row written in the same
-- transaction as the state change that causes it. Times are unix milliseconds.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    -- optional: a second enqueue with the same key is a no-op
    dedupe_key   TEXT    UNIQUE,
    state        TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'dead')),
    attempts     BIGINT  NOT NULL DEFAULT 0,
    max_attempts BIGINT  NOT NULL,
    run_at       BIGINT  NOT NULL,
    lease_owner  TEXT,
    lease_until  BIGINT,
    last_error   TEXT,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    done_at      BIGINT
);
CREATE INDEX outbox_due ON outbox (state, run_at);
