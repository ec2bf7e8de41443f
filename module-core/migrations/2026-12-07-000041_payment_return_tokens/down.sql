ALTER TABLE payments DROP COLUMN return_token_digest;
