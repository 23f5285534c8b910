-- Device Defender Detect: profiles, behaviors, targets, alarm slots, violation events and
-- the ticks evaluated. Datapoints are not stored: they are derived from presence_event.

CREATE TABLE security_profile (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    behaviors TEXT NOT NULL DEFAULT '[]',
    alert_targets TEXT,
    additional_metrics TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    modified_at INTEGER NOT NULL
) STRICT;

-- kind: all, registered, unregistered, group
CREATE TABLE profile_target (
    profile INTEGER NOT NULL REFERENCES security_profile(id) ON DELETE CASCADE,
    arn TEXT NOT NULL,
    kind TEXT NOT NULL,
    group_id INTEGER REFERENCES thing_group(id) ON DELETE CASCADE,
    PRIMARY KEY (profile, arn)
) STRICT, WITHOUT ROWID;

-- One alarm slot per (client, profile, behavior), kept only while a streak runs or the
-- alarm is on. streak counts violating datapoints (not in alarm) or conforming ones (in alarm).
CREATE TABLE alarm (
    client INTEGER NOT NULL REFERENCES client(id) ON DELETE CASCADE,
    profile TEXT NOT NULL,
    behavior TEXT NOT NULL,
    thing INTEGER REFERENCES thing(id) ON DELETE SET NULL,
    in_alarm INTEGER NOT NULL DEFAULT 0,
    streak INTEGER NOT NULL DEFAULT 0,
    violation_id TEXT,
    metric TEXT NOT NULL,
    start_time INTEGER,
    last_value REAL,
    last_time INTEGER,
    last_datapoint INTEGER,
    verification_state TEXT,
    verification_description TEXT,
    PRIMARY KEY (client, profile, behavior)
) STRICT, WITHOUT ROWID;
CREATE INDEX alarm_profile_behavior ON alarm(profile, behavior, thing) WHERE in_alarm = 1;
CREATE INDEX alarm_thing ON alarm(thing) WHERE in_alarm = 1;
CREATE INDEX alarm_violation_id ON alarm(violation_id);

CREATE TABLE violation_event (
    id INTEGER PRIMARY KEY,
    violation_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    profile TEXT NOT NULL,
    behavior TEXT NOT NULL,
    behavior_json TEXT NOT NULL,
    metric_value REAL,
    event_type TEXT NOT NULL,
    time INTEGER NOT NULL,
    verification_state TEXT,
    verification_description TEXT
) STRICT;
CREATE INDEX violation_event_time ON violation_event(time);
CREATE INDEX violation_event_violation_id ON violation_event(violation_id);

CREATE TABLE evaluated_tick (
    tick INTEGER PRIMARY KEY,
    evaluated_at INTEGER NOT NULL
) STRICT;
