ALTER TABLE notifications ADD CONSTRAINT notifications_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
DROP INDEX notifications_created;
CREATE INDEX notifications_created ON notifications (created_at);
DROP TABLE daily_answers;
DROP TABLE daily_questions;
