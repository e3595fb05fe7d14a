-- pgbench script: the statements billpayd sends PostgreSQL for one approved card payment with
-- the simulator (whose ledger is a file of its own, not this database), as billpayd sends them:
-- one prepared statement per write (store/statements.cpp, migrations 0008 and 0009). The bill
-- guard is on. A diagnostic of billpayd's own design, run by bench/run-payments next to
-- ../shared/bench/reference-ceiling (what the machine allows any safe payment): never a ceiling.
\set amount random(100, 100000)
\set n random(1, 1000000000000)
-- 1. claim the idempotency key (asynchronous commit)
SELECT status FROM billpay_claim_key('bench', 'k-' || :client_id || '-' || :n, 'POST',
    '/v1/payments', md5(:n::text), 45000, 'lease-' || :n);
-- 2. OPEN: the key still ours, the bill guard, the pending payment
SELECT status FROM billpay_open('pay_' || md5(:client_id || '-' || :n), 'bench',
    'acct-' || :client_id, 'bill-' || :n, :amount, 'USD', upper(substr(md5(:n::text), 1, 11)),
    'visa', '4242', 12, 2031, md5(:n::text), NULL, 'simulator', 'sim_tok_' || :n, true,
    'Ada Lovelace', 'ada@example.com', '{}', now(), 'k-' || :client_id || '-' || :n,
    'lease-' || :n, 45000, 'bill-' || :n, 1440);
-- 3. FINISH: the outcome, the key's stored answer, the receipt in the outbox
SELECT billpay_finish('pay_' || md5(:client_id || '-' || :n), 'succeeded', 'sim_ch_' || :n, NULL,
    NULL, NULL, now(), 201, repeat('x', 600), 'rcpt_' || md5(:client_id || '-' || :n),
    'payment_receipt', '{"id": "x"}');
