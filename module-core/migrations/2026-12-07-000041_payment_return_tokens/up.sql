-- A payment attempt's approval address carries a one-time token (only its digest is kept):
-- only the buyer's browser, sent back by the gateway, can have us call the gateway's approval.
ALTER TABLE payments ADD COLUMN return_token_digest text;
