-- The transactional outbox for the correspondence system: a message row is written in the same
-- transaction that gives a payment its final status (or answers it 202), so a status without
-- its message, or a message without its status, cannot exist.
CREATE TABLE outbox_messages (
    id              text PRIMARY KEY CHECK (id LIKE 'rcpt\_%'),
    type            text NOT NULL CHECK (type IN
                        ('payment_receipt', 'payment_declined', 'payment_pending', 'refund_receipt')),
    payment_id      text NOT NULL REFERENCES payments (id),
    -- The exact JSON document every delivery attempt sends: rendered once, so retries are
    -- byte-identical and carry the same id.
    body            text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- A dispatcher's claim: no other process sends the message until it runs out.
    locked_until    timestamptz,
    last_error      text,
    last_http_status integer,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    dead_at         timestamptz,
    UNIQUE (payment_id, type)
);
CREATE INDEX outbox_messages_due ON outbox_messages (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_messages_by_status ON outbox_messages (status, created_at);

-- Every attempt and every operator action on a message.
CREATE TABLE outbox_attempts (
    id              bigserial PRIMARY KEY,
    message_id      text NOT NULL REFERENCES outbox_messages (id),
    at              timestamptz NOT NULL DEFAULT now(),
    outcome         text NOT NULL CHECK (outcome IN ('delivered', 'retry', 'dead', 'replayed')),
    http_status     integer,
    error           text,
    actor           text NOT NULL
);
CREATE INDEX outbox_attempts_by_message ON outbox_attempts (message_id, at);
