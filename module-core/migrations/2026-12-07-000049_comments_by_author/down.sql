CREATE INDEX post_comments_author ON post_comments (author_id);
DROP INDEX post_comments_by_author;
