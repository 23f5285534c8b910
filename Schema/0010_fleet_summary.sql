-- The fleet overview: the disconnected things' timestamps and reasons in a partial index of
-- their own (a few thousand entries at a million things), so a histogram of how long they
-- have been disconnected and a count of their reasons read no thing row.
CREATE INDEX thing_disconnected_since ON thing(conn_ts, disconnect_reason) WHERE connected = 0;
