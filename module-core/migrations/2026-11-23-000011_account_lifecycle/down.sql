DROP TABLE account_notices;
DROP INDEX users_lifecycle;
ALTER TABLE users DROP CONSTRAINT users_deleted_withdrawn, DROP COLUMN deleted_at;
DROP TABLE dormant_accounts;
