-- One read of a Bitrix order at a time: a read holds this lease from before it asks Bitrix
-- until what it read is applied, so an older answer (the read-back after creation) can never
-- be applied after a newer one (an event's) and step the customer's order back.
ALTER TABLE bitrix_orders ADD COLUMN pull_owner TEXT;
ALTER TABLE bitrix_orders ADD COLUMN pull_until BIGINT;
