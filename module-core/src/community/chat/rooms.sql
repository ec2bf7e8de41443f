-- A member's rooms with everything the list shows, in one query: the listing, the other
-- member, both read positions and the last message (by the room's unique (room_id, seq)).
SELECT r.id, r.listing_id,
       -- A listing taken down, or hidden by moderation (from all but its seller), shows no more.
       l.deleted_at IS NULL AND (l.hidden_at IS NULL OR l.seller_id = $1) AS listing_available,
       CASE WHEN l.deleted_at IS NULL AND (l.hidden_at IS NULL OR l.seller_id = $1)
            THEN l.title END AS listing_title,
       CASE WHEN l.deleted_at IS NULL AND (l.hidden_at IS NULL OR l.seller_id = $1)
            THEN l.image_keys[1] END AS listing_image_key,
       l.status AS listing_status,
       other.user_id AS other_user_id, public_name(u.nickname, u.name) AS other_user_name,
       other.left_at IS NOT NULL AS other_left, other.last_read_seq AS other_last_read_seq,
       me.last_read_seq, r.last_seq, r.active_at, r.created_at,
       m.id AS message_id, m.sender_id AS message_sender_id, m.client_id AS message_client_id,
       m.text AS message_text, m.image_key AS message_image_key,
       m.hidden_at AS message_hidden_at, m.deleted_at AS message_deleted_at,
       m.created_at AS message_created_at
  FROM chat_members me
  JOIN chat_rooms r ON r.id = me.room_id
  JOIN listings l ON l.id = r.listing_id
  JOIN chat_members other ON other.room_id = r.id AND other.user_id <> me.user_id
  JOIN users u ON u.id = other.user_id
  LEFT JOIN chat_messages m ON m.room_id = r.id AND m.seq = r.last_seq
 WHERE me.user_id = $1
   AND ($2::bigint IS NULL AND me.left_at IS NULL OR r.id = $2)
   AND ($3::timestamptz IS NULL OR (r.active_at, r.id) < ($3, $4::bigint))
 ORDER BY r.active_at DESC, r.id DESC
 LIMIT $5
