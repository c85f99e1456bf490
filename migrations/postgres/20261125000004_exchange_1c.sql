-- The 1C exchange protocol (/1c/exchange). State lives here, not in one process, so 1C's
-- requests may reach any instance behind the load balancer.
CREATE TABLE exchange_sessions (
    id         TEXT   PRIMARY KEY,
    kind       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Uploaded files, as the chunks 1C sent (mode=file may come several times per file).
CREATE TABLE exchange_chunks (
    session_id TEXT   NOT NULL,
    filename   TEXT   NOT NULL,
    seq        BIGINT NOT NULL,
    data       BYTEA  NOT NULL,
    PRIMARY KEY (session_id, filename, seq)
);

-- One row per mode=import of a file: 1C polls until the state is done or failed.
CREATE TABLE exchange_imports (
    session_id TEXT   NOT NULL,
    filename   TEXT   NOT NULL,
    state      TEXT   NOT NULL CHECK (state IN ('running', 'done', 'failed')),
    message    TEXT   NOT NULL DEFAULT '',
    owner      TEXT   NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, filename)
);
