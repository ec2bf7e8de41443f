-- Admins find content without waiting for a report (`GET /admin/posts`, `/admin/comments`,
-- `/admin/listings`, `GET /admin/users/{id}`): hidden and deleted content included.

-- What readers no longer see, in each kind: the few rows the feeds' partial indexes leave out.
-- `hidden=true` reads them, and a search reads them word by word beside the visible rows that
-- the search index narrows.
CREATE INDEX posts_taken_down ON posts (id)
    WHERE hidden_at IS NOT NULL OR deleted_at IS NOT NULL;
CREATE INDEX post_comments_taken_down ON post_comments (id)
    WHERE hidden_at IS NOT NULL OR deleted_at IS NOT NULL;
CREATE INDEX listings_taken_down ON listings (id)
    WHERE hidden_at IS NOT NULL OR deleted_at IS NOT NULL;

-- Comments searched as posts are (see the owner board's migration): their visible words.
CREATE INDEX post_comments_search ON post_comments USING gin (search_grams(content))
    WHERE deleted_at IS NULL AND hidden_at IS NULL;

-- A member's latest reports, newest first (their record).
CREATE INDEX reports_by_reporter ON reports (reporter_id, id);
