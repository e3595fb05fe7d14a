-- pgbench script: the SQL billpayd runs for one approved card payment with the simulator, in the
-- same transactions (see store/idempotency_keys.cpp, store/payment_records.cpp,
-- store/simulator_ledger.cpp). Its rate is the ceiling PostgreSQL sets on payments per second.
\set n random(1, 1000000000000)
\set amount random(100, 100000)
-- 1. claim the idempotency key, with the duplicate-bill guard
BEGIN;
SELECT request_fingerprint, state, response_status, response_body, payment_id
  FROM idempotency_keys WHERE client_id = 'bench' AND key = 'k-' || :client_id || '-' || :n FOR UPDATE;
SELECT pg_advisory_xact_lock(hashtextextended('acct-' || :client_id || chr(31) || 'bill-' || :n, 7));
SELECT id FROM payments WHERE account_number = 'acct-' || :client_id AND bill_id = 'bill-' || :n
   AND status IN ('pending', 'succeeded', 'partially_refunded')
   AND created_at > now() - make_interval(mins => 1440) ORDER BY created_at DESC LIMIT 1;
SELECT payment_id FROM idempotency_keys WHERE account_number = 'acct-' || :client_id
   AND bill_id = 'bill-' || :n AND state = 'in_flight' LIMIT 1;
INSERT INTO idempotency_keys (client_id, key, request_method, request_path, request_fingerprint,
  account_number, bill_id, state)
  VALUES ('bench', 'k-' || :client_id || '-' || :n, 'POST', '/v1/payments', md5(:n::text),
  'acct-' || :client_id, 'bill-' || :n, 'in_flight') ON CONFLICT (client_id, key) DO NOTHING;
COMMIT;
-- 2. the simulator keeps the token (its ledger commits asynchronously: store/simulator_ledger.cpp)
BEGIN;
SET LOCAL synchronous_commit = off;
INSERT INTO simulator_tokens (token, behaviour, card_brand, card_last4)
  VALUES ('tok-' || :client_id || '-' || :n, 'approve', 'visa', '4242');
COMMIT;
-- 3. the pending payment, tied to its key
BEGIN;
INSERT INTO payments (id, client_id, account_number, bill_id, amount, currency, status,
  confirmation, card_brand, card_last4, card_exp_month, card_exp_year, card_fingerprint,
  payment_method_id, processor, processor_token, customer_name, customer_email, metadata)
  VALUES ('pay_' || :client_id || '_' || :n, 'bench', 'acct-' || :client_id, 'bill-' || :n, :amount,
  'USD', 'pending', 'C' || :client_id || '-' || :n, 'visa', '4242', 12, 2031, md5(:n::text), NULL,
  'simulator', 'tok-' || :client_id || '-' || :n, 'Load Test', 'load@example.com', '{}'::jsonb);
UPDATE idempotency_keys SET payment_id = 'pay_' || :client_id || '_' || :n
  WHERE client_id = 'bench' AND key = 'k-' || :client_id || '-' || :n;
COMMIT;
-- 4. the simulator charges
BEGIN;
SELECT behaviour FROM simulator_tokens WHERE token = 'tok-' || :client_id || '-' || :n;
COMMIT;
BEGIN;
SET LOCAL synchronous_commit = off;
INSERT INTO simulator_charges (idempotency_key, reference, token, amount, currency, outcome,
  decline_code) VALUES ('pay_' || :client_id || '_' || :n, 'ch-' || :client_id || '-' || :n,
  'tok-' || :client_id || '-' || :n, :amount, 'USD', 'approved', NULL)
  ON CONFLICT (idempotency_key) DO NOTHING;
SELECT reference, outcome, decline_code, amount, currency FROM simulator_charges
  WHERE idempotency_key = 'pay_' || :client_id || '_' || :n;
COMMIT;
-- 5. the outcome and the stored response, together
BEGIN;
UPDATE payments SET status = 'succeeded', processor_reference = 'ch-' || :client_id || '-' || :n,
  decline_code = NULL, failure_message = NULL, next_recovery_at = NULL, updated_at = now()
  WHERE id = 'pay_' || :client_id || '_' || :n AND status = 'pending' RETURNING *;
UPDATE idempotency_keys SET state = 'finished', response_status = 201,
  response_body = repeat('x', 600), finished_at = now()
  WHERE payment_id = 'pay_' || :client_id || '_' || :n AND state = 'in_flight';
COMMIT;
