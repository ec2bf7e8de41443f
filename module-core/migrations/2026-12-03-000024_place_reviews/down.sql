DROP TABLE place_reviews;
