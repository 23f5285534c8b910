-- Probes of `connectivity.connected` inside an indexed driver's subquery: the disconnected
-- things, keyed by id, so a test is a seek in a small index instead of a read of the wide
-- thing row.
CREATE INDEX thing_disconnected ON thing(connected) WHERE connected = 0;
