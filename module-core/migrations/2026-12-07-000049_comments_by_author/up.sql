-- A member's comments, newest first (`GET /users/me/comments`), read by one index range: the
-- author's index gains the id (it still serves every lookup by author).
CREATE INDEX post_comments_by_author ON post_comments (author_id, id);
DROP INDEX post_comments_author;
