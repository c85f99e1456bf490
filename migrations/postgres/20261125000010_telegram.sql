-- The bot. Updates already taken (Telegram redelivers until it gets a 200, and a webhook and a
-- retry may race): the first insert wins, a repeat is ignored.
CREATE TABLE telegram_updates (
    update_id   BIGINT PRIMARY KEY,
    received_at BIGINT NOT NULL
);

-- Whether the bot may write to a customer: started the bot, or blocked it (403 from Telegram).
ALTER TABLE customers ADD COLUMN bot_started_at BIGINT;
ALTER TABLE customers ADD COLUMN bot_blocked_at BIGINT;

-- The staff chat's message about each order, edited when the order's status changes.
CREATE TABLE telegram_staff_messages (
    order_id   BIGINT PRIMARY KEY,
    chat_id    BIGINT NOT NULL,
    message_id BIGINT NOT NULL
);
