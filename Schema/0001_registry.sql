-- The thing registry: types, things, groups (a hierarchy), membership, shadows, and the
-- leaf values of attributes and shadows that the fleet query language searches.
-- Times are epoch milliseconds.

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
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
CREATE INDEX thing_type_name_lower ON thing_type(name_lower);

-- connected / conn_ts / disconnect_reason mirror the client's connectivity (presence) so
-- that `connectivity.*` queries walk an index in name order.
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
CREATE INDEX thing_name_lower ON thing(name_lower);
CREATE INDEX thing_thing_id ON thing(thing_id);
CREATE INDEX thing_type_name ON thing(type, name);
CREATE INDEX thing_connected_name ON thing(connected, name);
CREATE INDEX thing_conn_ts ON thing(conn_ts) WHERE conn_ts IS NOT NULL;

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
) STRICT;
CREATE INDEX thing_group_name_lower ON thing_group(name_lower);
CREATE INDEX thing_group_parent ON thing_group(parent);

-- Closure of the hierarchy, self included (depth 0): thingGroupNames:X finds members of
-- X and of every group below it.
CREATE TABLE thing_group_ancestor (
    group_id INTEGER NOT NULL REFERENCES thing_group(id) ON DELETE CASCADE,
    ancestor INTEGER NOT NULL REFERENCES thing_group(id) ON DELETE CASCADE,
    depth INTEGER NOT NULL,
    PRIMARY KEY (ancestor, group_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX thing_group_ancestor_group_id ON thing_group_ancestor(group_id, ancestor);

-- Direct membership, static and dynamic.
CREATE TABLE thing_group_member (
    group_id INTEGER NOT NULL REFERENCES thing_group(id) ON DELETE CASCADE,
    thing INTEGER NOT NULL REFERENCES thing(id) ON DELETE CASCADE,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, thing)
) STRICT, WITHOUT ROWID;
CREATE INDEX thing_group_member_thing ON thing_group_member(thing, group_id);

-- Classic (name '') and named shadows: the stored document and its version.
CREATE TABLE shadow (
    thing INTEGER NOT NULL REFERENCES thing(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    document TEXT NOT NULL,
    version INTEGER NOT NULL,
    has_delta INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (thing, name)
) STRICT, WITHOUT ROWID;

-- Every searchable leaf of attributes and shadows, one row per distinct value, in three
-- tables by type. Each table is its own search index: WITHOUT ROWID, keyed by
-- (field, value, thing). field is the query path (attributes.site, shadow.reported.temp,
-- shadow.name.gps.reported.sats, shadow.hasDelta). Text values are lower-cased; an attribute
-- that is a JSON number literal is in thing_number too. Rows are removed by their exact key
-- (the engine knows a thing's old values from its documents), so no index on thing is kept.
CREATE TABLE thing_text (
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    thing INTEGER NOT NULL,
    PRIMARY KEY (field, value, thing)
) STRICT, WITHOUT ROWID;

CREATE TABLE thing_number (
    field TEXT NOT NULL,
    value REAL NOT NULL,
    thing INTEGER NOT NULL,
    PRIMARY KEY (field, value, thing)
) STRICT, WITHOUT ROWID;

CREATE TABLE thing_flag (
    field TEXT NOT NULL,
    value INTEGER NOT NULL,
    thing INTEGER NOT NULL,
    PRIMARY KEY (field, value, thing)
) STRICT, WITHOUT ROWID;
