-- The room, locked for the next sequence number, with everything a send must know in the same
-- round trip: whether the sender may write (account, membership), whether either member left,
-- and whether one blocks the other; and the message the sender stored before under this
-- client id ($3), if any, which a resend returns before any of those checks. No row: the sender
-- is not a member of such a room.
SELECT r.id, r.listing_id, r.seller_id, r.buyer_id, r.last_seq,
       sender.status AS sender_status, sender.suspended_until AS sender_suspended_until,
       mine.left_at IS NOT NULL AS sender_left,
       theirs.left_at IS NOT NULL AS recipient_left,
       EXISTS (SELECT 1 FROM user_blocks
                WHERE (blocker_id, blocked_id) IN ((r.seller_id, r.buyer_id),
                                                   (r.buyer_id, r.seller_id))) AS blocked,
       earlier.id AS earlier_id, earlier.room_id AS earlier_room_id
  FROM chat_rooms r
  JOIN users sender ON sender.id = $2
  JOIN chat_members mine ON mine.room_id = r.id AND mine.user_id = $2
  JOIN chat_members theirs ON theirs.room_id = r.id AND theirs.user_id <> $2
  LEFT JOIN chat_messages earlier ON earlier.sender_id = $2 AND earlier.client_id = $3
 WHERE r.id = $1
   FOR UPDATE OF r
