-- FINISH without reading the payment back, and idempotency keys that finish with a HOT update.
--
-- idempotency_keys_by_bill served the duplicate-bill guard when it looked at keys; the guard
-- looks at payments (migration 0006's OPEN) and nothing writes a key's account or bill any
-- more. Its predicate named `state`, which FINISH changes: every finished key was a new row
-- version in all four indexes. Without it (and without the two columns), FINISH changes no
-- indexed column of the key, and PostgreSQL updates it in place on its page (HOT).
DROP INDEX idempotency_keys_by_bill;
ALTER TABLE idempotency_keys DROP COLUMN account_number, DROP COLUMN bill_id;

-- billpay_finish answered with the whole payment row, to_char()ed and materialised, though the
-- caller knows what it wrote. It now says only what happened:
--   applied   the outcome (or, for one still pending, the answer and notice) was written
--   stands    another process finished the payment first: nothing written, read it back
--   not_found no such payment
DROP FUNCTION billpay_finish(text, text, text, text, text, text, timestamptz, integer, text,
                             text, text, text);
CREATE FUNCTION billpay_finish(
    p_id text, p_status text, p_reference text, p_method_id text, p_decline_code text,
    p_failure_message text, p_updated_at timestamptz, p_answer_status integer,
    p_answer_body text, p_message_id text, p_message_type text, p_message_body text)
RETURNS text
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    current_status text;
    keyed integer;
BEGIN
    IF p_status <> 'pending' THEN
        -- Only a pending payment changes; the row lock orders this against a peer finishing it.
        UPDATE payments SET status = p_status,
               processor_reference = coalesce(p_reference, processor_reference),
               decline_code = p_decline_code, failure_message = p_failure_message,
               next_recovery_at = NULL, updated_at = p_updated_at,
               payment_method_id = coalesce(p_method_id, payment_method_id)
         WHERE id = p_id AND status = 'pending';
        IF NOT FOUND THEN
            PERFORM 1 FROM payments WHERE id = p_id;
            RETURN CASE WHEN FOUND THEN 'stands' ELSE 'not_found' END;
        END IF;
    ELSE
        SELECT status INTO current_status FROM payments WHERE id = p_id;
        IF NOT FOUND THEN
            RETURN 'not_found';
        END IF;
        IF current_status <> 'pending' THEN
            RETURN 'stands';
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
    RETURN 'applied';
END;
$$;
