-- A refund is tied to its Idempotency-Key as a payment is (issue 19): the transaction that
-- reserves the refund checks, under the key's row lock, that the key is still its request's
-- and records the refund on it. A key that holds a refund is never taken over (a retry past
-- the lease waits for that refund's answer instead of reserving a second one), is given back
-- only when its refund failed (nothing refunded), and is finished with the refund's answer by
-- whichever process finishes the refund (the request, or the retry worker after it died).
-- Safe while billpayd serves: the column has no default (a catalog change), and the index,
-- partial and on a column every existing row has NULL, is built in moments.
ALTER TABLE idempotency_keys ADD COLUMN refund_id text REFERENCES refunds (id);
CREATE UNIQUE INDEX idempotency_keys_by_refund ON idempotency_keys (refund_id)
    WHERE refund_id IS NOT NULL;

CREATE OR REPLACE FUNCTION billpay_claim_key(p_client text, p_key text, p_method text,
                                             p_path text, p_fingerprint text, p_lease_ms bigint,
                                             p_lease_id text, OUT status text,
                                             OUT response_status integer,
                                             OUT response_body text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    k idempotency_keys%ROWTYPE;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    SELECT * INTO k FROM idempotency_keys WHERE client_id = p_client AND key = p_key FOR UPDATE;
    IF FOUND THEN
        IF k.request_fingerprint <> p_fingerprint AND k.request_fingerprint <> 'withdrawn' THEN
            status := 'mismatch';
        ELSIF k.state = 'finished' THEN
            status := 'replay';
            response_status := k.response_status;
            response_body := k.response_body;
        ELSIF k.payment_id IS NULL
              AND (k.refund_id IS NULL
                   OR EXISTS (SELECT 1 FROM refunds r
                               WHERE r.id = k.refund_id AND r.status = 'failed'))
              AND coalesce(k.leased_until, k.locked_at + interval '60 seconds') < now() THEN
            -- Its request died before it recorded a payment or a refund (or its refund failed,
            -- refunding nothing): this one takes the key over.
            UPDATE idempotency_keys SET lease_id = p_lease_id, locked_at = now(),
                   leased_until = now() + p_lease_ms * interval '1 millisecond', refund_id = NULL
             WHERE client_id = p_client AND key = p_key;
            status := 'claimed';
        ELSE
            status := 'in_flight';
        END IF;
        RETURN;
    END IF;
    INSERT INTO idempotency_keys (client_id, key, request_method, request_path,
                                  request_fingerprint, state, lease_id, leased_until)
    VALUES (p_client, p_key, p_method, p_path, p_fingerprint, 'in_flight', p_lease_id,
            now() + p_lease_ms * interval '1 millisecond')
    ON CONFLICT (client_id, key) DO NOTHING;
    status := CASE WHEN FOUND THEN 'claimed' ELSE 'in_flight' END;
END;
$$;

-- After a refund's reserve lost its answer, as billpay_settle_lost_open does for OPEN:
--   reserved      the key holds this refund: its lease is renewed by a durable write
--   not_reserved  nothing was written, nor ever will be: the key is deleted (a reserve still
--                 on its way finds no key) or is gone
--   lease_lost    nothing of this request was written; the key is another request's
CREATE FUNCTION billpay_settle_lost_reserve(p_client text, p_key text, p_lease_id text,
                                            p_refund text, p_lease_ms bigint, OUT status text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    k idempotency_keys%ROWTYPE;
BEGIN
    SELECT * INTO k FROM idempotency_keys WHERE client_id = p_client AND key = p_key FOR UPDATE;
    IF NOT FOUND THEN
        status := 'not_reserved';
    ELSIF k.refund_id = p_refund THEN
        UPDATE idempotency_keys SET leased_until = now() + p_lease_ms * interval '1 millisecond'
         WHERE client_id = p_client AND key = p_key;
        status := 'reserved';
    ELSIF k.refund_id IS NULL AND k.payment_id IS NULL AND k.lease_id = p_lease_id
          AND k.state = 'in_flight' THEN
        DELETE FROM idempotency_keys WHERE client_id = p_client AND key = p_key;
        status := 'not_reserved';
    ELSE
        status := 'lease_lost';
    END IF;
END;
$$;
