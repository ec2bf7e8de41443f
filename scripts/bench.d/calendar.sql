-- Calendar benchmark data, set-based: :users members with 10 events each, a third of them
-- recurring (daily, weekly on three days, monthly, yearly all-day birthdays), most in Seoul and
-- some in New York; some with reminders whose next one is months away. Then one event per
-- member (a daily walk) is made due now: its 15-minute reminder fell 5 minutes ago.
-- psql -v users=100000 -f calendar.sql
\set ON_ERROR_STOP on
SET maintenance_work_mem = '512MB';
SELECT setseed(0.13) AS seeded \gset

INSERT INTO users (email, password_hash, name, status_changed_at, created_at, updated_at)
SELECT 'owner-' || n || '@bench.petory', 'no login', '회원 ' || n, now(), now(), now()
  FROM generate_series(1, :users) AS n;

-- k = 0, 3, 6: recurring (daily walk, weekly class, monthly check-up); k = 9: a yearly
-- all-day birthday; the rest single events over three months around December 2026.
INSERT INTO calendar_events (user_id, title, memo, all_day, starts_local, ends_local, time_zone,
                             color, rrule, reminders, created_at, updated_at)
SELECT u.id,
       (ARRAY['산책', '병원', '미용', '예방접종', '훈련', '놀이', '목욕', '사료 주문', '약 먹기', '생일'])[k + 1],
       '', k = 9,
       CASE WHEN k = 9 THEN (date '2021-01-01' + (u.id % 365)::int)::timestamp
            WHEN k IN (0, 3, 6) THEN timestamp '2026-06-01 07:00' + make_interval(hours => (k + u.id % 5)::int)
            ELSE timestamp '2026-11-01 08:00' + make_interval(days => ((u.id * 7 + k * 13) % 90)::int,
                                                                hours => ((u.id + k) % 12)::int) END,
       CASE WHEN k = 9 THEN (date '2021-01-02' + (u.id % 365)::int)::timestamp
            WHEN k IN (0, 3, 6) THEN timestamp '2026-06-01 08:00' + make_interval(hours => (k + u.id % 5)::int)
            ELSE timestamp '2026-11-01 09:00' + make_interval(days => ((u.id * 7 + k * 13) % 90)::int,
                                                                hours => ((u.id + k) % 12)::int) END,
       CASE WHEN k = 6 AND u.id % 4 = 0 THEN 'America/New_York' ELSE 'Asia/Seoul' END,
       '#3788D8',
       CASE k WHEN 0 THEN 'FREQ=DAILY' WHEN 3 THEN 'FREQ=WEEKLY;BYDAY=MO,WE,FR'
              WHEN 6 THEN 'FREQ=MONTHLY' WHEN 9 THEN 'FREQ=YEARLY' END,
       CASE WHEN k % 4 = 1 THEN '{30}'::int[] ELSE '{}' END,
       now(), now()
  FROM users u CROSS JOIN generate_series(0, 9) AS k
 WHERE u.email LIKE 'owner-%';

-- Events with reminders are looked at again next summer (their next reminder is months away)...
INSERT INTO calendar_reminder_queue (event_id, due_at, from_at)
SELECT id, timestamptz '2027-06-01', now() FROM calendar_events WHERE cardinality(reminders) > 0;

-- ... but every member's daily walk is due now: it starts 10 minutes from now (Seoul time) with a
-- reminder 15 minutes before.
UPDATE calendar_events e
   SET starts_local = date_trunc('minute', now() AT TIME ZONE 'Asia/Seoul') + interval '10 minutes',
       ends_local = date_trunc('minute', now() AT TIME ZONE 'Asia/Seoul') + interval '40 minutes',
       time_zone = 'Asia/Seoul', reminders = '{15}'
  FROM users u
 WHERE u.id = e.user_id AND u.email LIKE 'owner-%' AND e.title = '산책';
INSERT INTO calendar_reminder_queue (event_id, due_at, from_at)
SELECT id, now() - interval '1 minute', now() - interval '10 minutes'
  FROM calendar_events WHERE title = '산책';

VACUUM ANALYZE users;
VACUUM ANALYZE calendar_events;
VACUUM ANALYZE calendar_reminder_queue;
