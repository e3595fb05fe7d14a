-- A payment's writes as one statement each: one round trip to PostgreSQL and one commit, on a
-- statement prepared once per connection (store/statements.cpp).
--   billpay_claim_key   the idempotency key, before the processor is asked; its commit does not
--                       wait for the disk (a claim lost in a crash only frees the key again,
--                       and OPEN's synchronous commit makes it durable too: WAL is flushed in
--                       order)
--   billpay_open        OPEN: the bill guard, the pending payment, tied to the key under its lease
--   billpay_finish      FINISH: the outcome, the answer the key replays, the message
--   billpay_record_attempts  a dispatcher batch's delivery attempts
-- No NOTIFY on the payment's path any more: PostgreSQL serialises every NOTIFY at commit
-- (a cluster-wide lock held until the WAL flush). The dispatcher is woken in-process and polls.

CREATE FUNCTION billpay_claim_key(p_client text, p_key text, p_method text, p_path text,
                                  p_fingerprint text, p_lease_ms bigint, p_lease_id text,
                                  OUT status text, OUT response_status integer,
                                  OUT response_body text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    k idempotency_keys%ROWTYPE;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    SELECT * INTO k FROM idempotency_keys WHERE client_id = p_client AND key = p_key FOR UPDATE;
    IF FOUND THEN
        IF k.request_fingerprint <> p_fingerprint THEN
            status := 'mismatch';
        ELSIF k.state = 'finished' THEN
            status := 'replay';
            response_status := k.response_status;
            response_body := k.response_body;
        ELSIF k.payment_id IS NULL
              AND coalesce(k.leased_until, k.locked_at + interval '60 seconds') < now() THEN
            -- Its request died before it recorded a payment: this one takes the key over.
            UPDATE idempotency_keys SET lease_id = p_lease_id, locked_at = now(),
                   leased_until = now() + p_lease_ms * interval '1 millisecond'
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

CREATE FUNCTION billpay_open(
    p_id text, p_client text, p_account text, p_bill text, p_amount bigint, p_currency text,
    p_confirmation text, p_brand text, p_last4 text, p_exp_month integer, p_exp_year integer,
    p_fingerprint text, p_method_id text, p_processor text, p_token text, p_token_owned boolean,
    p_name text, p_email text, p_metadata jsonb, p_created_at timestamptz,
    p_key text, p_lease_id text, p_lease_ms bigint, p_guard_bill text, p_window_minutes integer,
    OUT status text, OUT existing_payment text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    -- The key must still be this request's: a request that lost it records nothing and says
    -- nothing about the bill. Its row lock keeps a takeover out until this commits.
    PERFORM 1 FROM idempotency_keys
     WHERE client_id = p_client AND key = p_key AND lease_id = p_lease_id
       AND state = 'in_flight' AND payment_id IS NULL
       FOR UPDATE;
    IF NOT FOUND THEN
        status := 'lease_lost';
        RETURN;
    END IF;
    IF p_guard_bill IS NOT NULL THEN
        -- Payments of one bill one after the other; a request's own key has no payment yet.
        PERFORM pg_advisory_xact_lock(hashtextextended(p_account || chr(31) || p_guard_bill, 7));
        SELECT id INTO existing_payment FROM payments
         WHERE account_number = p_account AND bill_id = p_guard_bill
           AND status IN ('pending', 'succeeded', 'partially_refunded')
           AND created_at > now() - make_interval(mins => p_window_minutes)
         ORDER BY created_at DESC LIMIT 1;
        IF FOUND THEN
            status := 'possible_duplicate';
            RETURN;
        END IF;
    END IF;
    INSERT INTO payments (id, client_id, account_number, bill_id, amount, currency, status,
        confirmation, card_brand, card_last4, card_exp_month, card_exp_year, card_fingerprint,
        payment_method_id, processor, processor_token, token_owned, customer_name,
        customer_email, metadata, created_at, updated_at, next_recovery_at)
    VALUES (p_id, p_client, p_account, p_bill, p_amount, p_currency, 'pending', p_confirmation,
        p_brand, p_last4, p_exp_month, p_exp_year, p_fingerprint, p_method_id, p_processor,
        p_token, p_token_owned, p_name, p_email, p_metadata, p_created_at, p_created_at,
        now() + p_lease_ms * interval '1 millisecond');
    UPDATE idempotency_keys SET payment_id = p_id, locked_at = now(),
           leased_until = now() + p_lease_ms * interval '1 millisecond'
     WHERE client_id = p_client AND key = p_key;
    status := 'opened';
END;
$$;

CREATE FUNCTION billpay_finish(
    p_id text, p_status text, p_reference text, p_method_id text, p_decline_code text,
    p_failure_message text, p_updated_at timestamptz, p_answer_status integer,
    p_answer_body text, p_message_id text, p_message_type text, p_message_body text)
RETURNS SETOF payments
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    r payments%ROWTYPE;
    keyed integer;
BEGIN
    IF p_status <> 'pending' THEN
        -- Only a pending payment changes; the row lock orders this against a peer finishing it.
        UPDATE payments SET status = p_status,
               processor_reference = coalesce(p_reference, processor_reference),
               decline_code = p_decline_code, failure_message = p_failure_message,
               next_recovery_at = NULL, updated_at = p_updated_at,
               payment_method_id = coalesce(p_method_id, payment_method_id)
         WHERE id = p_id AND status = 'pending'
        RETURNING * INTO r;
        IF NOT FOUND THEN
            RETURN QUERY SELECT * FROM payments WHERE id = p_id;  -- a peer's outcome stands
            RETURN;
        END IF;
    ELSE
        SELECT * INTO r FROM payments WHERE id = p_id;
        IF NOT FOUND THEN
            RETURN;
        END IF;
        IF r.status <> 'pending' THEN
            RETURN NEXT r;
            RETURN;
        END IF;
    END IF;
    UPDATE idempotency_keys SET state = 'finished', response_status = p_answer_status,
           response_body = p_answer_body, finished_at = now(), leased_until = NULL
     WHERE payment_id = p_id AND state = 'in_flight';
    GET DIAGNOSTICS keyed = ROW_COUNT;
    -- One message per payment and type; a pending notice only with the answer that said so.
    IF p_message_id IS NOT NULL AND (p_status <> 'pending' OR keyed = 1) THEN
        INSERT INTO outbox_messages (id, type, payment_id, body)
        VALUES (p_message_id, p_message_type, p_id, p_message_body)
        ON CONFLICT (payment_id, type) WHERE refund_id IS NULL DO NOTHING;
    END IF;
    RETURN NEXT r;
END;
$$;

CREATE FUNCTION billpay_record_attempts(p_ids text[], p_outcomes text[], p_http_statuses integer[],
                                        p_errors text[], p_retry_ms bigint[], p_actor text)
RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    -- Attempts are bookkeeping: lost in a crash, a message is only sent again, and its
    -- receiver de-duplicates by id. Not worth waiting for the disk.
    PERFORM set_config('synchronous_commit', 'off', true);
    UPDATE outbox_messages m SET
           status = CASE a.outcome WHEN 'delivered' THEN 'delivered'
                                   WHEN 'dead' THEN 'dead' ELSE m.status END,
           delivered_at = CASE WHEN a.outcome = 'delivered' THEN now() ELSE m.delivered_at END,
           dead_at = CASE WHEN a.outcome = 'dead' THEN now() ELSE m.dead_at END,
           locked_until = NULL,
           last_error = CASE WHEN a.outcome = 'delivered' THEN NULL ELSE nullif(a.error, '') END,
           last_http_status = a.http_status,
           next_attempt_at = CASE WHEN a.outcome = 'retry'
                                  THEN now() + a.retry_ms * interval '1 millisecond'
                                  ELSE m.next_attempt_at END
      FROM unnest(p_ids, p_outcomes, p_http_statuses, p_errors, p_retry_ms)
           AS a(id, outcome, http_status, error, retry_ms)
     WHERE m.id = a.id;
    INSERT INTO outbox_attempts (message_id, outcome, http_status, error, actor)
    SELECT a.id, a.outcome, a.http_status, nullif(a.error, ''), p_actor
      FROM unnest(p_ids, p_outcomes, p_http_statuses, p_errors)
           AS a(id, outcome, http_status, error);
END;
$$;

-- Room on each page for an updated row version next to the old one.
ALTER TABLE payments SET (fillfactor = 85);
ALTER TABLE idempotency_keys SET (fillfactor = 85);
ALTER TABLE outbox_messages SET (fillfactor = 85);
