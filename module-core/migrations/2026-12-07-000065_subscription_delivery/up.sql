-- A subscriber chooses where renewals go: the address is copied when chosen (as an order copies
-- it), all five parts or none; none means "where the first order went". `address_id` only says
-- which entry of the address book it was copied from, while that entry exists.
ALTER TABLE subscriptions
    ADD COLUMN address_id BIGINT REFERENCES user_addresses (id) ON DELETE SET NULL,
    ADD COLUMN recipient TEXT,
    ADD COLUMN phone TEXT,
    ADD COLUMN zip_code TEXT,
    ADD COLUMN address1 TEXT,
    ADD COLUMN address2 TEXT,
    ADD CONSTRAINT subscriptions_delivery_whole CHECK (
        (recipient IS NULL) = (phone IS NULL) AND (recipient IS NULL) = (zip_code IS NULL)
        AND (recipient IS NULL) = (address1 IS NULL) AND (recipient IS NULL) = (address2 IS NULL));
CREATE INDEX subscriptions_address ON subscriptions (address_id) WHERE address_id IS NOT NULL;

-- What a charge is for, fixed when it is claimed: a quantity changed while a charge is in
-- flight applies to the next cycle, and the renewal order states what was charged.
ALTER TABLE subscription_charges
    ADD COLUMN quantity INT CHECK (quantity BETWEEN 1 AND 99);
