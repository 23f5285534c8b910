-- The clock of the receive (or change-message-visibility) that put a message in flight. A
-- received message is hidden only from receives whose clock lies in [received_at, visible_at),
-- so mixing `--at` and the system clock never hides a message for longer than its timeout.
ALTER TABLE sqs_message ADD COLUMN received_at INTEGER;
