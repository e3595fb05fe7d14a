-- Finishing a payment stores the response of the key that created it, found by payment id;
-- without this index that lookup scans every key kept (found by bench/payment.sql with -r).
CREATE INDEX idempotency_keys_by_payment ON idempotency_keys (payment_id) WHERE payment_id IS NOT NULL;
