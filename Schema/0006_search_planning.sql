-- Search planning. Probes of `connectivity.connected` inside an indexed driver's subquery:
-- the disconnected things, keyed by id, so a test is a seek in a small index instead of a
-- read of the wide thing row.
CREATE INDEX thing_disconnected ON thing(connected) WHERE connected = 0;

-- Direct member counts, so that estimating a group (with its subgroups) for the planner
-- reads a few group rows instead of counting members. Every writer of thing_group_member
-- adds its net change (FleetDatabase.countMembers); not triggers, which cost 5 µs a member.
ALTER TABLE thing_group ADD COLUMN member_count INTEGER NOT NULL DEFAULT 0;
UPDATE thing_group SET member_count = (SELECT count(*) FROM thing_group_member AS m WHERE m.group_id = thing_group.id);
