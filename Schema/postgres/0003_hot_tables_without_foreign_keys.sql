-- The tables written for every lifecycle event, every evaluation tick and every imported
-- thing carry no foreign key. PostgreSQL checks a foreign key with a query per inserted row
-- that share-locks the referenced row: 17,500 new violations took 242-307 ms with their keys
-- to `client` and `violation_behavior`, 71-74 ms without, and 100,000 things 1.7-2.0 s with
-- the key to `thing_type`, 1.2-1.5 s without (measured 2026-12-04 on the 100,000-thing
-- benchmark's database). The stores keep what the keys kept, under the fleet's write lock:
--   client: fleetdex never deletes a client, and every store registers the client before it
--     writes its events, metric runs, alarm slots and violations (so the keys' ON DELETE
--     CASCADE never ran);
--   violation_behavior: a behavior is stored before the violations that name it, and pruned
--     only when no violation names it (ViolationStore.prune);
--   violation: its events are deleted before it (ViolationStore.prune deletes a violation
--     only when no event names it);
--   thing_type: DeleteThingType refuses a type that a thing still has (Registry), and every
--     write of a thing's type looks the type up by name first.
-- The keys whose ON DELETE CASCADE the engine relies on (a thing's memberships, shadows and
-- principals; a group's members) stay, and SQLite keeps every key.
ALTER TABLE presence_event DROP CONSTRAINT presence_event_client_fkey;
ALTER TABLE metric_run DROP CONSTRAINT metric_run_client_fkey;
ALTER TABLE alarm DROP CONSTRAINT alarm_client_fkey;
ALTER TABLE violation DROP CONSTRAINT violation_client_fkey;
ALTER TABLE violation DROP CONSTRAINT violation_behavior_fkey;
ALTER TABLE violation_event DROP CONSTRAINT violation_event_client_violation_fkey;
ALTER TABLE thing DROP CONSTRAINT thing_type_fkey;
