-- A request's fingerprint no longer depends on the card's CVC (PCI DSS v4.0.1 3.3.1.2: the card
-- verification code is kept in no form after authorisation). Until now the fingerprint of a
-- card request hashed the CVC with the fingerprint key; with that key and the card's
-- fingerprint beside it, the CVC could be confirmed by trying its 1,000 values. Every
-- fingerprint of a request that may have carried a card is withdrawn: the value is replaced by
-- a marker that derives from nothing, and a key whose fingerprint is withdrawn takes any request
-- under it as its own (a finished one replays its answer; a different request under the key
-- is no longer told 422, which is the price of not keeping the CVC's trace). Keys are kept
-- for `retention.idempotency_key_days` (7 by default; `billpayctl purge`), so after that no key
-- has the marker.
UPDATE idempotency_keys SET request_fingerprint = 'withdrawn'
 WHERE request_path IN ('/v1/payments', '/v1/payment_methods');

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
