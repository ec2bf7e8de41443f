DROP INDEX reports_by_reporter;
DROP INDEX post_comments_search;
DROP INDEX listings_taken_down;
DROP INDEX post_comments_taken_down;
DROP INDEX posts_taken_down;
