-- A violation found by its row id alone (a violationId names the row, not the client):
-- PutVerificationStateOnViolation, an alarm's clear or invalidation, retention. The primary
-- key (client, id) leads with the distribution column, so without this each was a scan.
CREATE INDEX violation_id ON violation(id);
