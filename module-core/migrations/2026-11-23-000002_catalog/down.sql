DROP TABLE cart_items;
DROP TABLE items;
DROP TABLE categories;
