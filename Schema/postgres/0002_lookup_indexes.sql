-- Lookups the primary keys (which lead with the distribution column) do not serve:
-- A violation found by its row id alone (a violationId names the row, not the client):
-- PutVerificationStateOnViolation, an alarm's clear or invalidation, retention; each was a
-- scan of `violation`.
CREATE INDEX violation_id ON violation(id);
-- The evaluation's new-client mark, max(seq) every tick: was a scan of `client` (190 ms at
-- 1,000,000 clients).
CREATE INDEX client_seq ON client(seq);
