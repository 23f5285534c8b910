-- SNS topics and subscriptions, SQS queues and messages, pending HTTP deliveries.

CREATE TABLE sns_topic (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    arn TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE sns_subscription (
    id INTEGER PRIMARY KEY,
    topic INTEGER NOT NULL REFERENCES sns_topic(id) ON DELETE CASCADE,
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    arn TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    UNIQUE (topic, protocol, endpoint)
) STRICT;

CREATE TABLE sqs_queue (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL UNIQUE,
    arn TEXT NOT NULL UNIQUE,
    visibility_timeout INTEGER NOT NULL DEFAULT 30,
    redrive_target INTEGER REFERENCES sqs_queue(id) ON DELETE SET NULL,
    max_receive_count INTEGER,
    attributes TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE sqs_message (
    id INTEGER PRIMARY KEY,
    queue INTEGER NOT NULL REFERENCES sqs_queue(id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    md5 TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt_handle TEXT
) STRICT;
CREATE INDEX sqs_message_queue_visible_at ON sqs_message(queue, visible_at);
CREATE INDEX sqs_message_receipt_handle ON sqs_message(receipt_handle);

CREATE TABLE http_delivery (
    id INTEGER PRIMARY KEY,
    subscription INTEGER NOT NULL REFERENCES sns_subscription(id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    message_id TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at INTEGER,
    last_error TEXT
) STRICT;
CREATE INDEX http_delivery_next_attempt_at ON http_delivery(next_attempt_at) WHERE delivered_at IS NULL;
