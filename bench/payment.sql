-- pgbench script: the SQL billpayd runs for one approved card payment with the simulator (whose
-- ledger is a file of its own, not this database), in the same transactions (see
-- store/idempotency_keys.cpp, store/payment_store.cpp, store/payment_records.cpp). It measures
-- billpayd's own design; ../shared/bench/reference-ceiling is what the machine allows.
\set n random(1, 1000000000000)
\set amount random(100, 100000)
-- 1. claim the idempotency key
BEGIN;
SELECT request_fingerprint, state, response_status, response_body, payment_id,
       coalesce(leased_until, locked_at + interval '60 seconds') < now()
  FROM idempotency_keys WHERE client_id = 'bench' AND key = 'k-' || :client_id || '-' || :n FOR UPDATE;
INSERT INTO idempotency_keys (client_id, key, request_method, request_path, request_fingerprint,
  state, lease_id, leased_until)
  VALUES ('bench', 'k-' || :client_id || '-' || :n, 'POST', '/v1/payments', md5(:n::text),
  'in_flight', 'lease-' || :n, now() + interval '45 seconds') ON CONFLICT (client_id, key) DO NOTHING;
COMMIT;
-- 2. OPEN: the bill guard, the pending payment, tied to its key
BEGIN;
SELECT pg_advisory_xact_lock(hashtextextended('acct-' || :client_id || chr(31) || 'bill-' || :n, 7));
SELECT id FROM payments WHERE account_number = 'acct-' || :client_id AND bill_id = 'bill-' || :n
   AND status IN ('pending', 'succeeded', 'partially_refunded')
   AND created_at > now() - make_interval(mins => 1440) ORDER BY created_at DESC LIMIT 1;
INSERT INTO payments (id, client_id, account_number, bill_id, amount, currency, status,
  confirmation, card_brand, card_last4, card_exp_month, card_exp_year, card_fingerprint,
  payment_method_id, processor, processor_token, customer_name, customer_email, metadata,
  created_at, updated_at, next_recovery_at)
  VALUES ('pay_' || :client_id || '_' || :n, 'bench', 'acct-' || :client_id, 'bill-' || :n, :amount,
  'USD', 'pending', 'C' || :client_id || '-' || :n, 'visa', '4242', 12, 2031, md5(:n::text), NULL,
  'simulator', 'tok-' || :client_id || '-' || :n, 'Load Test', 'load@example.com', '{}'::jsonb,
  now(), now(), now() + interval '45 seconds');
UPDATE idempotency_keys SET payment_id = 'pay_' || :client_id || '_' || :n, locked_at = now(),
  leased_until = now() + interval '45 seconds'
  WHERE client_id = 'bench' AND key = 'k-' || :client_id || '-' || :n AND lease_id = 'lease-' || :n
  AND state = 'in_flight' AND payment_id IS NULL;
SELECT * FROM payments WHERE id = 'pay_' || :client_id || '_' || :n;
COMMIT;
-- 3. FINISH: the outcome and the stored response, together
BEGIN;
UPDATE payments SET status = 'succeeded', processor_reference = 'ch-' || :client_id || '-' || :n,
  decline_code = NULL, failure_message = NULL, next_recovery_at = NULL, updated_at = now()
  WHERE id = 'pay_' || :client_id || '_' || :n AND status = 'pending' RETURNING *;
UPDATE idempotency_keys SET state = 'finished', response_status = 201,
  response_body = repeat('x', 600), finished_at = now(), leased_until = NULL
  WHERE payment_id = 'pay_' || :client_id || '_' || :n AND state = 'in_flight';
COMMIT;
