ALTER TABLE subscription_charges DROP COLUMN quantity;
DROP INDEX subscriptions_address;
ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_delivery_whole,
    DROP COLUMN address_id, DROP COLUMN recipient, DROP COLUMN phone, DROP COLUMN zip_code,
    DROP COLUMN address1, DROP COLUMN address2;
