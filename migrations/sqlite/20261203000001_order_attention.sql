-- An order staff must look at, and why: a payment that arrived after the order was cancelled
-- (its payment hold ran out, or staff cancelled it). Set by vitrina, cleared by a refund.
ALTER TABLE orders ADD COLUMN attention TEXT;
ALTER TABLE orders ADD COLUMN attention_at BIGINT;
