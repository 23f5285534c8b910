-- An evaluation reads the whole presence history of every client it visits (the columns
-- `client, ts, type, session, version, reason`, by client). The primary key's index holds all
-- of them but `reason`, so each event was a heap fetch, and a client's events, written at
-- different times, lie on different heap pages: 5,000 clients' 30,000 events took 800 ms from
-- a cold cache and 200 ms warm at 1,000,000 things. With `reason` carried in the key's index
-- (INCLUDE: stored in the leaf, not part of the key, so uniqueness is unchanged) the read is
-- an index-only scan, a client's events side by side in one leaf: 51 ms for the same 5,000
-- clients (measured 2026-12-06 on the 1,000,000-thing benchmark's database, vacuumed: an
-- index-only scan skips the heap on pages the visibility map marks all-visible, which
-- autovacuum keeps up). An index entry must stay under about 2.7 KB: intake refuses a
-- sessionIdentifier or connectFailureReason over 256 bytes (LifecycleEvent).
-- Two statements: Citus refuses ADD CONSTRAINT beside other subcommands of one ALTER TABLE
-- on a distributed table; the migration's transaction keeps them atomic.
ALTER TABLE presence_event DROP CONSTRAINT presence_event_pkey;
ALTER TABLE presence_event ADD CONSTRAINT presence_event_pkey PRIMARY KEY (client, ts, type, session, version) INCLUDE (reason);
