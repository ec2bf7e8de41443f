DROP TABLE place_week_likes; DROP INDEX places_most_liked;
