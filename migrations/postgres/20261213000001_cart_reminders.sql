-- The cart reminder (src/selling/reminder.rs): when the cart last changed (the reminder job
-- that carries this time is the one that may send), and the contents the last reminder was
-- about (the same contents are never reminded of twice).
CREATE TABLE cart_reminders (
    customer_id    BIGINT PRIMARY KEY,
    changed_at     BIGINT NOT NULL,
    sent_contents  TEXT,
    sent_at        BIGINT
);
