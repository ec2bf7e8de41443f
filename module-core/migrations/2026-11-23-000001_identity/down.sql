DROP TABLE user_addresses;
DROP TABLE users;
