-- Device Defender storage, compact. Datapoints are stored as the evaluation saw them (runs of
-- ticks), and violation events reference their violation, client and behavior by integer id.

-- A run of one client's datapoints of one metric (1 aws:disconnect-duration, 2 aws:num-disconnects,
-- 3 aws:num-connection-attempts, 4 aws:num-authorization-failures), from first_tick until the
-- next run of the pair starts. At an evaluated tick T of its span:
--   start_value NULL: no datapoint (not monitored, or nothing to measure);
--   T <= last_tick, or last_tick NULL (open): start_value + step × (T − first_tick) / 300000;
--   T > last_tick: 0 (the value at rest: connected, no events).
-- Before a pair's first run there is no datapoint. An open run predicts a value other than 0,
-- so its client is visited at every tick until the run closes.
CREATE TABLE metric_run (
    client INTEGER NOT NULL REFERENCES client(id) ON DELETE CASCADE,
    metric INTEGER NOT NULL,
    first_tick INTEGER NOT NULL,
    last_tick INTEGER,
    start_value INTEGER,
    step INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (client, metric, first_tick)
) STRICT, WITHOUT ROWID;
CREATE INDEX metric_run_open ON metric_run(client) WHERE last_tick IS NULL;

-- Each behavior a violation was raised for, its JSON once (kept after the profile changes).
CREATE TABLE violation_behavior (
    id INTEGER PRIMARY KEY,
    profile TEXT NOT NULL,
    name TEXT NOT NULL,
    json TEXT NOT NULL,
    UNIQUE (profile, json)
) STRICT;

-- One row per violation (alarm). Its violationId is derived from id (Defender.ViolationStore);
-- legacy_id keeps the random id of a violation written before this migration.
-- invalidation_reason: the description of its alarm-invalidated event.
CREATE TABLE violation (
    id INTEGER PRIMARY KEY,
    client INTEGER NOT NULL REFERENCES client(id),
    behavior INTEGER NOT NULL REFERENCES violation_behavior(id),
    last_time INTEGER NOT NULL,
    verification_state TEXT,
    verification_description TEXT,
    invalidation_reason TEXT,
    legacy_id TEXT
) STRICT;
CREATE UNIQUE INDEX violation_legacy_id ON violation(legacy_id) WHERE legacy_id IS NOT NULL;

-- type: 0 in-alarm, 1 alarm-cleared, 2 alarm-invalidated.
CREATE TABLE violation_event_compact (
    id INTEGER PRIMARY KEY,
    violation INTEGER NOT NULL REFERENCES violation(id),
    type INTEGER NOT NULL,
    time INTEGER NOT NULL,
    metric_value INTEGER
) STRICT;

-- The old rows, moved. A violation's verification state is the one put on it (found on any of
-- its events other than the invalidation, which carried UNKNOWN and its reason until a put).
INSERT OR IGNORE INTO client(client_id) SELECT DISTINCT client_id FROM violation_event;
INSERT OR IGNORE INTO violation_behavior(profile, name, json)
    SELECT profile, behavior, behavior_json FROM violation_event GROUP BY profile, behavior_json ORDER BY min(id);
INSERT INTO violation(client, behavior, last_time, verification_state, verification_description, invalidation_reason, legacy_id)
    SELECT (SELECT id FROM client WHERE client_id = e.client_id),
           (SELECT b.id FROM violation_behavior AS b WHERE b.profile = e.profile AND b.json = e.behavior_json),
           max(e.time),
           (SELECT x.verification_state FROM violation_event AS x WHERE x.violation_id = e.violation_id
                AND x.event_type <> 'alarm-invalidated' AND x.verification_state IS NOT NULL ORDER BY x.id LIMIT 1),
           (SELECT x.verification_description FROM violation_event AS x WHERE x.violation_id = e.violation_id
                AND x.event_type <> 'alarm-invalidated' AND x.verification_state IS NOT NULL ORDER BY x.id LIMIT 1),
           (SELECT x.verification_description FROM violation_event AS x WHERE x.violation_id = e.violation_id
                AND x.event_type = 'alarm-invalidated' ORDER BY x.id LIMIT 1),
           e.violation_id
    FROM violation_event AS e GROUP BY e.violation_id ORDER BY min(e.id);
INSERT INTO violation_event_compact(id, violation, type, time, metric_value)
    SELECT e.id, v.id, CASE e.event_type WHEN 'in-alarm' THEN 0 WHEN 'alarm-cleared' THEN 1 ELSE 2 END, e.time,
           CAST(e.metric_value AS INTEGER)
    FROM violation_event AS e JOIN violation AS v ON v.legacy_id = e.violation_id ORDER BY e.id;

DROP TABLE violation_event;

-- Ticks evaluated before this migration have no runs: their datapoints are still derived from
-- the presence history when listed (the rule of the older versions).
INSERT INTO meta(key, value) SELECT 'metric_runs_from', CAST(max(tick) + 300000 AS TEXT) FROM evaluated_tick HAVING count(*) > 0;
ALTER TABLE violation_event_compact RENAME TO violation_event;
CREATE INDEX violation_event_time ON violation_event(time);
