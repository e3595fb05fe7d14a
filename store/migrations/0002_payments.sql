-- Payments, saved payment methods and idempotency keys (the payments feature), and the
-- simulator processor's own ledger.
--
-- What is kept of a card: brand, last 4, expiry month/year, and a keyed fingerprint
-- (HMAC-SHA256 under a key PostgreSQL never sees). Never the number, never the CVC.

CREATE TABLE payment_methods (
    id                  text PRIMARY KEY CHECK (id LIKE 'pm\_%'),
    client_id           text NOT NULL,
    account_number      text NOT NULL,
    processor           text NOT NULL,
    processor_token     text NOT NULL,
    card_brand          text NOT NULL,
    card_last4          char(4) NOT NULL CHECK (card_last4 ~ '^[0-9]{4}$'),
    card_exp_month      smallint NOT NULL CHECK (card_exp_month BETWEEN 1 AND 12),
    card_exp_year       smallint NOT NULL CHECK (card_exp_year BETWEEN 2000 AND 2099),
    card_fingerprint    text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at          timestamptz
);
-- One live saved card per account and card: saving it again finds this one.
CREATE UNIQUE INDEX payment_methods_one_per_card
    ON payment_methods (account_number, card_fingerprint) WHERE deleted_at IS NULL;
CREATE INDEX payment_methods_by_account ON payment_methods (account_number, created_at DESC);

CREATE TABLE payments (
    id                  text PRIMARY KEY CHECK (id LIKE 'pay\_%'),
    client_id           text NOT NULL,
    account_number      text NOT NULL,
    bill_id             text,
    amount              bigint NOT NULL CHECK (amount > 0),
    amount_refunded     bigint NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0 AND amount_refunded <= amount),
    currency            char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status              text NOT NULL CHECK (status IN
                            ('pending', 'succeeded', 'declined', 'failed', 'partially_refunded', 'refunded')),
    confirmation        text NOT NULL UNIQUE,
    card_brand          text NOT NULL,
    card_last4          char(4) NOT NULL CHECK (card_last4 ~ '^[0-9]{4}$'),
    card_exp_month      smallint NOT NULL CHECK (card_exp_month BETWEEN 1 AND 12),
    card_exp_year       smallint NOT NULL CHECK (card_exp_year BETWEEN 2000 AND 2099),
    card_fingerprint    text NOT NULL,
    payment_method_id   text REFERENCES payment_methods (id),
    processor           text NOT NULL,
    processor_token     text NOT NULL,
    processor_reference text,
    decline_code        text,
    failure_message     text,
    customer_name       text NOT NULL,
    customer_email      text NOT NULL,
    metadata            jsonb NOT NULL DEFAULT '{}',
    -- The recovery worker's bookkeeping for payments whose processor answer was lost.
    recovery_attempts   integer NOT NULL DEFAULT 0,
    next_recovery_at    timestamptz,
    needs_review        boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_by_account ON payments (account_number, created_at DESC, id DESC);
CREATE INDEX payments_by_time ON payments (created_at DESC, id DESC);
CREATE INDEX payments_by_bill ON payments (account_number, bill_id, created_at) WHERE bill_id IS NOT NULL;
CREATE INDEX payments_to_recover ON payments (next_recovery_at) WHERE status = 'pending';

-- The status machine, enforced by the database too: no code path, and no hand-written UPDATE,
-- can turn a declined payment into a success. (payments/status.hpp has the same table.)
CREATE FUNCTION payments_check_status_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = OLD.status AND NEW.status <> 'partially_refunded' THEN
        RETURN NEW;
    END IF;
    IF (OLD.status, NEW.status) IN (
        ('pending', 'succeeded'), ('pending', 'declined'), ('pending', 'failed'),
        ('succeeded', 'partially_refunded'), ('succeeded', 'refunded'),
        ('partially_refunded', 'partially_refunded'), ('partially_refunded', 'refunded')) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'illegal payment status transition from % to %', OLD.status, NEW.status
        USING ERRCODE = 'check_violation';
END;
$$;
CREATE TRIGGER payments_status_transition
    BEFORE UPDATE OF status ON payments
    FOR EACH ROW EXECUTE FUNCTION payments_check_status_transition();

-- Idempotency keys, scoped to the API client (Stripe's semantics). The request fingerprint is a
-- SHA-256 over the request with the card replaced by its keyed fingerprint.
CREATE TABLE idempotency_keys (
    client_id           text NOT NULL,
    key                 text NOT NULL,
    request_method      text NOT NULL,
    request_path        text NOT NULL,
    request_fingerprint text NOT NULL,
    -- For the duplicate-bill guard while the first request is still running.
    account_number      text,
    bill_id             text,
    state               text NOT NULL CHECK (state IN ('in_flight', 'finished')),
    payment_id          text REFERENCES payments (id),
    response_status     integer,
    response_body       text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    locked_at           timestamptz NOT NULL DEFAULT now(),
    finished_at         timestamptz,
    PRIMARY KEY (client_id, key),
    CHECK (state = 'in_flight' OR (response_status IS NOT NULL AND response_body IS NOT NULL))
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
CREATE INDEX idempotency_keys_by_bill ON idempotency_keys (account_number, bill_id)
    WHERE state = 'in_flight' AND bill_id IS NOT NULL;

-- The simulator processor's own ledger: what a real processor would remember. It lets a
-- pending payment be looked up after a restart, and lets tests count charges per key.
CREATE TABLE simulator_tokens (
    token               text PRIMARY KEY,
    behaviour           text NOT NULL,
    card_brand          text NOT NULL,
    card_last4          char(4) NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE simulator_charges (
    idempotency_key     text PRIMARY KEY,
    reference           text NOT NULL UNIQUE,
    token               text NOT NULL,
    amount              bigint NOT NULL,
    currency            char(3) NOT NULL,
    outcome             text NOT NULL,
    decline_code        text,
    amount_refunded     bigint NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE simulator_refunds (
    idempotency_key     text PRIMARY KEY,
    reference           text NOT NULL UNIQUE,
    charge_reference    text NOT NULL REFERENCES simulator_charges (reference),
    amount              bigint NOT NULL,
    kind                text NOT NULL CHECK (kind IN ('refund', 'void')),
    created_at          timestamptz NOT NULL DEFAULT now()
);
