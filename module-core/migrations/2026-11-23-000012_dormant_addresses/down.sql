ALTER TABLE dormant_accounts DROP COLUMN addresses;
