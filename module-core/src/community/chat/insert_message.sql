-- Stores a message under the room's lock and moves the room (its last number and activity) and
-- the sender's read position with it (writing is reading: a waiting notification is done), in
-- one round trip. Nothing is stored or moved when the
-- sender used this client_id before (the caller then looks the earlier message up).
WITH message AS (
    INSERT INTO chat_messages (room_id, seq, sender_id, client_id, text, image_key, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT (sender_id, client_id) DO NOTHING
    RETURNING *
), room AS (
    UPDATE chat_rooms SET last_seq = $2, active_at = $7
     WHERE id = $1 AND EXISTS (SELECT 1 FROM message)
), reader AS (
    UPDATE chat_members SET last_read_seq = $2, notified = false
     WHERE room_id = $1 AND user_id = $3 AND EXISTS (SELECT 1 FROM message)
)
SELECT id, room_id, seq, sender_id, client_id, text, image_key, hidden_at, deleted_at, created_at
  FROM message
