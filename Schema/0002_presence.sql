-- Presence: every client id seen in lifecycle events (registered things and unregistered
-- clients), its newest applied event, and the event history the metrics are derived from.

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
CREATE INDEX client_thing ON client(thing);
CREATE INDEX client_max_ts ON client(max_ts);
-- The evaluation visits disconnected clients (and recently active ones) only.
CREATE INDEX client_connected ON client(connected) WHERE connected = 0;

-- type: 0 connected, 1 disconnected, 2 connect_failed. An exact duplicate (same session,
-- version, type and timestamp) hits the primary key.
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
