-- After OPEN's answer was lost (its connection broke, or its commit's wait for the synchronous
-- standby was cut short), what it did is learned under the key's row lock and made durable:
--   opened      the key holds this payment: its lease is renewed by a write whose commit waits
--               for the standby as OPEN's did (WAL is confirmed in order, so OPEN is durable
--               once this is); the request charges it
--   not_opened  nothing was written, and never will be: the key, still this request's, is
--               deleted (an OPEN still on its way finds no key and writes nothing), or it is gone
--   lease_lost  nothing of this request was written; the key is another request's now
-- The row lock waits for an OPEN still running on the server for a connection that broke.
CREATE FUNCTION billpay_settle_lost_open(p_client text, p_key text, p_lease_id text,
                                         p_payment text, p_lease_ms bigint, OUT status text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    k idempotency_keys%ROWTYPE;
BEGIN
    SELECT * INTO k FROM idempotency_keys WHERE client_id = p_client AND key = p_key FOR UPDATE;
    IF NOT FOUND THEN
        status := 'not_opened';
    ELSIF k.payment_id = p_payment THEN
        UPDATE idempotency_keys SET leased_until = now() + p_lease_ms * interval '1 millisecond'
         WHERE client_id = p_client AND key = p_key;
        status := 'opened';
    ELSIF k.payment_id IS NULL AND k.lease_id = p_lease_id AND k.state = 'in_flight' THEN
        DELETE FROM idempotency_keys WHERE client_id = p_client AND key = p_key;
        status := 'not_opened';
    ELSE
        status := 'lease_lost';
    END IF;
END;
$$;
