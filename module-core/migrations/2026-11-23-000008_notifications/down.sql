DROP TABLE notifications;
ALTER TABLE users DROP COLUMN notify_daily_question;
