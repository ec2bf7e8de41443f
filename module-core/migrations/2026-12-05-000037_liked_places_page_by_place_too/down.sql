DROP INDEX place_likes_user;
CREATE INDEX place_likes_user ON place_likes (user_id, created_at DESC);
