DELETE FROM uploads WHERE purpose = 'PLACE';
ALTER TABLE uploads DROP CONSTRAINT uploads_purpose_check,
    ADD CONSTRAINT uploads_purpose_check CHECK (purpose IN ('PET', 'POST', 'TRADE', 'CHAT', 'ALBUM',
        'PLACE_REVIEW', 'ITEM', 'ITEM_REVIEW'));
DROP TABLE place_likes;
DROP TABLE place_hours;
DROP TABLE places;
DROP EXTENSION IF EXISTS earthdistance;
DROP EXTENSION IF EXISTS cube;
