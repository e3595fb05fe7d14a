-- Finance: refunds and voids, the audit trail, imported settlements and reconciliation runs.

-- A refund (or a void of an unsettled charge) of part or all of a payment. A pending refund
-- holds its amount against the payment, so that two refunds at once can never give back more
-- than was paid; one whose processor answer was lost stays pending until it is learned.
CREATE TABLE refunds (
    id                  text PRIMARY KEY CHECK (id LIKE 'ref\_%'),
    payment_id          text NOT NULL REFERENCES payments (id),
    amount              bigint NOT NULL CHECK (amount > 0),
    currency            char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status              text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    kind                text CHECK (kind IN ('refund', 'void')),
    reason              text NOT NULL,
    requested_by        text NOT NULL,
    processor_reference text,
    failure_code        text,
    failure_message     text,
    attempts            integer NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz,
    needs_review        boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_by_payment ON refunds (payment_id, created_at);
CREATE INDEX refunds_by_time ON refunds (created_at);
CREATE INDEX refunds_to_retry ON refunds (next_attempt_at) WHERE status = 'pending';
CREATE INDEX refunds_by_reference ON refunds (processor_reference) WHERE processor_reference IS NOT NULL;
CREATE INDEX payments_by_reference ON payments (processor_reference) WHERE processor_reference IS NOT NULL;

-- Who did what to which records, when, from where and why: refunds, imports, reconciliation
-- runs, exports, receipt replays, finance's reads of customers' payments. Each row's hash covers
-- its fields and the previous row's hash (billpayctl audit verify recomputes the chain), and the
-- table refuses UPDATE, DELETE and TRUNCATE: rows are only ever added.
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    source      text NOT NULL,
    action      text NOT NULL,
    records     text NOT NULL,
    reason      text NOT NULL DEFAULT '',
    details     text NOT NULL DEFAULT '{}',
    prev_hash   text NOT NULL,
    hash        text NOT NULL UNIQUE
);
CREATE INDEX audit_log_by_time ON audit_log (at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- A settlement file (or an API pull) imported once: its content hash keys it.
CREATE TABLE settlement_imports (
    id              text PRIMARY KEY CHECK (id LIKE 'imp\_%'),
    processor       text NOT NULL,
    format          text NOT NULL,
    source          text NOT NULL,
    content_sha256  text NOT NULL UNIQUE,
    line_count      integer NOT NULL,
    imported_by     text NOT NULL,
    imported_at     timestamptz NOT NULL DEFAULT now()
);

-- One line of what the processor settled, in minor units. `reference` is the processor's id of
-- the charge (Stripe: the PaymentIntent; Authorize.Net: the transId); for a refund line,
-- `refund_reference` is the refund's own id where the processor gives it.
CREATE TABLE settlement_lines (
    id                  bigserial PRIMARY KEY,
    import_id           text NOT NULL REFERENCES settlement_imports (id),
    processor           text NOT NULL,
    line_id             text NOT NULL,
    settled_at          timestamptz NOT NULL,
    kind                text NOT NULL CHECK (kind IN ('charge', 'refund', 'fee', 'payout', 'adjustment', 'other')),
    reference           text,
    refund_reference    text,
    currency            char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    gross               bigint NOT NULL,
    fee                 bigint NOT NULL,
    net                 bigint NOT NULL,
    payout_id           text,
    UNIQUE (processor, line_id)
);
CREATE INDEX settlement_lines_by_reference ON settlement_lines (reference);
CREATE INDEX settlement_lines_by_time ON settlement_lines (settled_at);

-- A reconciliation of a date range, with every difference it found.
CREATE TABLE reconciliation_runs (
    id              text PRIMARY KEY CHECK (id LIKE 'rec\_%'),
    date_from       date NOT NULL,
    date_to         date NOT NULL,
    run_by          text NOT NULL,
    started_at      timestamptz NOT NULL DEFAULT now(),
    matched         integer NOT NULL,
    exceptions      integer NOT NULL,
    summary         jsonb NOT NULL
);
CREATE INDEX reconciliation_runs_by_range ON reconciliation_runs (date_to DESC, started_at DESC);

CREATE TABLE reconciliation_items (
    id              bigserial PRIMARY KEY,
    run_id          text NOT NULL REFERENCES reconciliation_runs (id),
    class           text NOT NULL,
    is_exception    boolean NOT NULL,
    processor       text,
    reference       text,
    payment_id      text,
    refund_id       text,
    line_id         text,
    expected        bigint,
    actual          bigint,
    currency        char(3),
    day             date,
    message         text NOT NULL
);
CREATE INDEX reconciliation_items_by_run ON reconciliation_items (run_id, is_exception);

-- A payment has one message of each type, except refund receipts: one per refund.
ALTER TABLE outbox_messages ADD COLUMN refund_id text REFERENCES refunds (id);
ALTER TABLE outbox_messages DROP CONSTRAINT outbox_messages_payment_id_type_key;
CREATE UNIQUE INDEX outbox_messages_one_per_payment
    ON outbox_messages (payment_id, type) WHERE refund_id IS NULL;
CREATE UNIQUE INDEX outbox_messages_one_per_refund
    ON outbox_messages (refund_id) WHERE refund_id IS NOT NULL;
