-- Dynamic group join/leave log and Detect mitigation.

CREATE TABLE group_log (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL REFERENCES thing_group(id) ON DELETE CASCADE,
    thing_name TEXT NOT NULL,
    change TEXT NOT NULL,
    time INTEGER NOT NULL,
    reason TEXT NOT NULL
) STRICT;
CREATE INDEX group_log_group_id_time ON group_log(group_id, time);

CREATE TABLE mitigation_action (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    action_id TEXT NOT NULL,
    role_arn TEXT NOT NULL,
    action_type TEXT NOT NULL,
    params TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    modified_at INTEGER NOT NULL
) STRICT;

CREATE TABLE mitigation_task (
    id INTEGER PRIMARY KEY,
    task_id TEXT NOT NULL UNIQUE,
    target TEXT NOT NULL,
    actions TEXT NOT NULL,
    options TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER
) STRICT;

CREATE TABLE mitigation_execution (
    id INTEGER PRIMARY KEY,
    task INTEGER NOT NULL REFERENCES mitigation_task(id) ON DELETE CASCADE,
    violation_id TEXT NOT NULL,
    action_name TEXT NOT NULL,
    thing_name TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    status TEXT NOT NULL,
    error_code TEXT,
    message TEXT
) STRICT;
CREATE INDEX mitigation_execution_task ON mitigation_execution(task);

-- Things whose searchable state changed since the dynamic groups were last refreshed: the
-- refresh re-checks only these (unless a change affects every thing, or a query uses `now`).
CREATE TABLE thing_touch (
    thing INTEGER PRIMARY KEY
) STRICT;
