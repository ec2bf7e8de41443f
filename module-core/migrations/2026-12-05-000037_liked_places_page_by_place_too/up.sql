-- "The places I like" pages by (like time, place): likes made in the same microsecond are
-- told apart, and the index serves that order without a sort.
DROP INDEX place_likes_user;
CREATE INDEX place_likes_user ON place_likes (user_id, created_at DESC, place_id DESC);
