DROP TABLE item_reviews;
