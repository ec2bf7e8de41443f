-- A renewal is delivered whatever the stock (subscribers come first), so it takes what stock
-- there is, up to its quantity: the line keeps how much, so that a refund gives back exactly
-- that. NULL: the line took its whole quantity (every first order does, or it is refused).
ALTER TABLE order_lines ADD COLUMN stock_taken int
    CHECK (stock_taken >= 0 AND stock_taken <= quantity);
