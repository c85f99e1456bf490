-- The shop's master system (Bitrix, 1C) is the truth about an order: what it says is kept as
-- it said it, so the customer sees the master's own wording for a status vitrina has no
-- mapping for, the reason of a cancellation, the tracking number, and staff see a refund due.
ALTER TABLE orders ADD COLUMN master_status TEXT;
ALTER TABLE orders ADD COLUMN master_status_name TEXT;
ALTER TABLE orders ADD COLUMN cancel_reason TEXT;
ALTER TABLE orders ADD COLUMN tracking_number TEXT;
-- minor units a paid order is owed back after the master lowered its total
ALTER TABLE orders ADD COLUMN refund_due BIGINT NOT NULL DEFAULT 0;
-- a coupon the customer typed at checkout (passed to Bitrix)
ALTER TABLE orders ADD COLUMN coupon TEXT;
-- an e-mail the customer gave at checkout (for the shop's order property and receipts)
ALTER TABLE orders ADD COLUMN contact_email TEXT;

-- Status names as the master spells them (Bitrix sale.statusLang.list, 1C's own values), and
-- whether vitrina has a mapping for them, for `vitrina bitrix check`.
CREATE TABLE master_statuses (
    source   TEXT   NOT NULL,
    code     TEXT   NOT NULL,
    name     TEXT   NOT NULL,
    name_en  TEXT,
    seen_at  BIGINT NOT NULL,
    PRIMARY KEY (source, code)
);

-- The phone Telegram itself vouches for: a contact the customer shared with the bot
-- (requestContact), whose user_id is the sender's own.
ALTER TABLE customers ADD COLUMN phone_verified TEXT;
