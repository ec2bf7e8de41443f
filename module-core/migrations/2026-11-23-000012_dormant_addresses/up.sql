-- Delivery addresses are personal data too: they go apart with the rest while an account is
-- dormant (rows of user_addresses as JSON, put back with their ids on login).
ALTER TABLE dormant_accounts
    ADD COLUMN addresses JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(addresses) = 'array');
