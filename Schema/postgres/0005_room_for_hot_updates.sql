-- Room on each page for the rows every evaluation rewrites, so that PostgreSQL can update them
-- in place (a HOT update: the new version on the same page, no new index entries) when no
-- indexed column changes. An active alarm slot is rewritten at every tick (its last datapoint,
-- value and time; `in_alarm` and `violation_id`, which indexes read, stay), and an open metric
-- run gets its step at its second tick. Packed full by their inserts, the pages had no room:
-- 1 of 35,004 alarm updates and 5 of 27,497 metric-run updates were HOT over the benchmark's
-- ticks at 1,000,000 things, each writing a new row version elsewhere and new entries in every
-- index; with these settings 20,551 and 4,937 were (measured 2026-12-06, five rounds
-- alternated), the metric-run updates of one tick took 111 ms instead of 201, a catch-up of
-- 12 ticks 1,069-1,447 ms (median 1,164) instead of 1,218-1,724 (1,377), 24 quiet ticks
-- 606-865 ms (647) instead of 711-992 (859). `alarm` stays small (a row per active slot);
-- `metric_run` gets about 15% larger. Only pages written from now on keep the room (no
-- rewrite of existing tables).
ALTER TABLE alarm SET (fillfactor = 70);
ALTER TABLE metric_run SET (fillfactor = 85);
