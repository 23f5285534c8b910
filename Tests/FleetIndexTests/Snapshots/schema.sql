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
CREATE TABLE certificate (
    id INTEGER PRIMARY KEY,
    certificate_id TEXT NOT NULL UNIQUE,
    pem TEXT NOT NULL,
    status TEXT NOT NULL,
    ca_certificate_id TEXT,
    mode TEXT NOT NULL DEFAULT 'DEFAULT',
    not_before INTEGER NOT NULL,
    not_after INTEGER NOT NULL,
    generation_id TEXT NOT NULL,
    customer_version INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    modified_at INTEGER NOT NULL
) STRICT;
CREATE TABLE certificate_authority (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    certificate_id TEXT NOT NULL,     -- lowercase hex SHA-256 of the DER
    pem TEXT NOT NULL,
    key_algorithm TEXT NOT NULL,      -- EC_prime256v1 | RSA_2048
    created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE client (
    id INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL UNIQUE,
    thing INTEGER REFERENCES thing(id) ON DELETE SET NULL,
    connected INTEGER NOT NULL DEFAULT 0,
    -- the newest connect/disconnect event (the one connectivity is derived from):
    ts INTEGER,
    event_type INTEGER,
    session TEXT,
    version INTEGER,
    reason TEXT,
    -- newest timestamp of any stored event of this client
    max_ts INTEGER
) STRICT;
CREATE TABLE evaluated_tick (
    tick INTEGER PRIMARY KEY,
    evaluated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE group_log (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL REFERENCES thing_group(id) ON DELETE CASCADE,
    thing_name TEXT NOT NULL,
    change TEXT NOT NULL,
    time INTEGER NOT NULL,
    reason TEXT NOT NULL
) STRICT;
CREATE TABLE http_delivery (
    id INTEGER PRIMARY KEY,
    subscription INTEGER NOT NULL REFERENCES sns_subscription(id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    message_id TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at INTEGER,
    last_error TEXT
) STRICT;
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
CREATE TABLE metric_run (
    client INTEGER NOT NULL REFERENCES client(id) ON DELETE CASCADE,
    metric INTEGER NOT NULL,
    first_tick INTEGER NOT NULL,
    last_tick INTEGER,
    start_value INTEGER,
    step INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (client, metric, first_tick)
) STRICT, WITHOUT ROWID;
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
CREATE TABLE policy (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    default_version INTEGER NOT NULL,
    next_version INTEGER NOT NULL,
    generation_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    modified_at INTEGER NOT NULL
) STRICT;
CREATE TABLE policy_target (
    policy INTEGER NOT NULL REFERENCES policy(id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    attached_at INTEGER NOT NULL,
    PRIMARY KEY (policy, target)
) STRICT, WITHOUT ROWID;
CREATE TABLE policy_version (
    policy INTEGER NOT NULL REFERENCES policy(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    document TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (policy, version)
) STRICT, WITHOUT ROWID;
CREATE TABLE presence_event (
    client INTEGER NOT NULL REFERENCES client(id) ON DELETE CASCADE,
    ts INTEGER NOT NULL,
    type INTEGER NOT NULL,
    session TEXT NOT NULL,
    version INTEGER NOT NULL,
    reason TEXT,
    principal TEXT,
    ip TEXT,
    client_initiated INTEGER,
    PRIMARY KEY (client, ts, type, session, version)
) STRICT, WITHOUT ROWID;
CREATE TABLE profile_target (
    profile INTEGER NOT NULL REFERENCES security_profile(id) ON DELETE CASCADE,
    arn TEXT NOT NULL,
    kind TEXT NOT NULL,
    group_id INTEGER REFERENCES thing_group(id) ON DELETE CASCADE,
    PRIMARY KEY (profile, arn)
) STRICT, WITHOUT ROWID;
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
CREATE TABLE shadow (
    thing INTEGER NOT NULL REFERENCES thing(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    document TEXT NOT NULL,
    version INTEGER NOT NULL,
    has_delta INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (thing, name)
) STRICT, WITHOUT ROWID;
CREATE TABLE sns_subscription (
    id INTEGER PRIMARY KEY,
    topic INTEGER NOT NULL REFERENCES sns_topic(id) ON DELETE CASCADE,
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    arn TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    UNIQUE (topic, protocol, endpoint)
) STRICT;
CREATE TABLE sns_topic (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    arn TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE sqs_message (
    id INTEGER PRIMARY KEY,
    queue INTEGER NOT NULL REFERENCES sqs_queue(id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    md5 TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt_handle TEXT
, received_at INTEGER) STRICT;
CREATE TABLE sqs_queue (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL UNIQUE,
    arn TEXT NOT NULL UNIQUE,
    visibility_timeout INTEGER NOT NULL DEFAULT 30,
    redrive_target INTEGER REFERENCES sqs_queue(id) ON DELETE SET NULL,
    max_receive_count INTEGER,
    attributes TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE thing (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    name_lower TEXT NOT NULL,
    thing_id TEXT NOT NULL,
    type INTEGER REFERENCES thing_type(id),
    attributes TEXT NOT NULL DEFAULT '{}',
    version INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    connected INTEGER NOT NULL DEFAULT 0,
    conn_ts INTEGER,
    disconnect_reason TEXT
) STRICT;
CREATE TABLE thing_flag (
    field TEXT NOT NULL,
    value INTEGER NOT NULL,
    thing INTEGER NOT NULL,
    PRIMARY KEY (field, value, thing)
) STRICT, WITHOUT ROWID;
CREATE TABLE thing_group (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    name_lower TEXT NOT NULL,
    group_id TEXT NOT NULL,
    parent INTEGER REFERENCES thing_group(id),
    properties TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    -- dynamic groups only:
    query TEXT,
    query_version TEXT,
    index_name TEXT,
    status TEXT
, member_count INTEGER NOT NULL DEFAULT 0) STRICT;
CREATE TABLE thing_group_ancestor (
    group_id INTEGER NOT NULL REFERENCES thing_group(id) ON DELETE CASCADE,
    ancestor INTEGER NOT NULL REFERENCES thing_group(id) ON DELETE CASCADE,
    depth INTEGER NOT NULL,
    PRIMARY KEY (ancestor, group_id)
) STRICT, WITHOUT ROWID;
CREATE TABLE thing_group_member (
    group_id INTEGER NOT NULL REFERENCES thing_group(id) ON DELETE CASCADE,
    thing INTEGER NOT NULL REFERENCES thing(id) ON DELETE CASCADE,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, thing)
) STRICT, WITHOUT ROWID;
CREATE TABLE thing_number (
    field TEXT NOT NULL,
    value REAL NOT NULL,
    thing INTEGER NOT NULL,
    PRIMARY KEY (field, value, thing)
) STRICT, WITHOUT ROWID;
CREATE TABLE thing_principal (
    thing INTEGER NOT NULL REFERENCES thing(id) ON DELETE CASCADE,
    principal TEXT NOT NULL,
    type TEXT NOT NULL DEFAULT 'NON_EXCLUSIVE_THING',
    attached_at INTEGER NOT NULL,
    PRIMARY KEY (thing, principal)
) STRICT, WITHOUT ROWID;
CREATE TABLE thing_text (
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    thing INTEGER NOT NULL,
    PRIMARY KEY (field, value, thing)
) STRICT, WITHOUT ROWID;
CREATE TABLE thing_touch (
    thing INTEGER PRIMARY KEY
) STRICT;
CREATE TABLE thing_type (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    name_lower TEXT NOT NULL,
    type_id TEXT NOT NULL,
    properties TEXT,
    deprecated INTEGER NOT NULL DEFAULT 0,
    deprecated_at INTEGER,
    created_at INTEGER NOT NULL
) STRICT;
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
CREATE TABLE violation_behavior (
    id INTEGER PRIMARY KEY,
    profile TEXT NOT NULL,
    name TEXT NOT NULL,
    json TEXT NOT NULL,
    UNIQUE (profile, json)
) STRICT;
CREATE TABLE "violation_event" (
    id INTEGER PRIMARY KEY,
    violation INTEGER NOT NULL REFERENCES violation(id),
    type INTEGER NOT NULL,
    time INTEGER NOT NULL,
    metric_value INTEGER
) STRICT;
CREATE INDEX alarm_profile_behavior ON alarm(profile, behavior, thing) WHERE in_alarm = 1;
CREATE INDEX alarm_thing ON alarm(thing) WHERE in_alarm = 1;
CREATE INDEX alarm_violation_id ON alarm(violation_id);
CREATE INDEX certificate_created_at ON certificate(created_at, id);
CREATE INDEX client_connected ON client(connected) WHERE connected = 0;
CREATE INDEX client_max_ts ON client(max_ts);
CREATE INDEX client_thing ON client(thing);
CREATE INDEX group_log_group_id_time ON group_log(group_id, time);
CREATE INDEX http_delivery_next_attempt_at ON http_delivery(next_attempt_at) WHERE delivered_at IS NULL;
CREATE INDEX metric_run_open ON metric_run(client) WHERE last_tick IS NULL;
CREATE INDEX mitigation_execution_task ON mitigation_execution(task);
CREATE INDEX policy_target_target ON policy_target(target, policy);
CREATE INDEX sqs_message_queue_visible_at ON sqs_message(queue, visible_at);
CREATE INDEX sqs_message_receipt_handle ON sqs_message(receipt_handle);
CREATE INDEX thing_conn_ts ON thing(conn_ts) WHERE conn_ts IS NOT NULL;
CREATE INDEX thing_connected_name ON thing(connected, name);
CREATE INDEX thing_disconnected ON thing(connected) WHERE connected = 0;
CREATE INDEX thing_disconnected_since ON thing(conn_ts, disconnect_reason) WHERE connected = 0;
CREATE INDEX thing_group_ancestor_group_id ON thing_group_ancestor(group_id, ancestor);
CREATE INDEX thing_group_member_thing ON thing_group_member(thing, group_id);
CREATE INDEX thing_group_name_lower ON thing_group(name_lower);
CREATE INDEX thing_group_parent ON thing_group(parent);
CREATE INDEX thing_name_lower ON thing(name_lower);
CREATE INDEX thing_principal_principal ON thing_principal(principal, thing);
CREATE INDEX thing_thing_id ON thing(thing_id);
CREATE INDEX thing_type_name ON thing(type, name);
CREATE INDEX thing_type_name_lower ON thing_type(name_lower);
CREATE INDEX violation_event_time ON violation_event(time);
CREATE UNIQUE INDEX violation_legacy_id ON violation(legacy_id) WHERE legacy_id IS NOT NULL;
