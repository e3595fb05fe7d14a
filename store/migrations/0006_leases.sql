-- Leases that fence a request out once it has lost its idempotency key, and the simulator's
-- ledger leaving billpayd's schema.
--
-- A request holds its key until leased_until. A retry may take over a key whose lease ran out
-- and that has no payment yet; it gets a new lease_id, and every later write of the first
-- request (attaching its payment, storing its answer, giving the key back) names its own
-- lease_id and so changes nothing: it can never charge, nor answer for the key, a second time.
-- The recovery worker leaves alone a payment whose key is still leased: its request is running.
ALTER TABLE idempotency_keys ADD COLUMN lease_id text;
ALTER TABLE idempotency_keys ADD COLUMN leased_until timestamptz;
UPDATE idempotency_keys SET leased_until = locked_at + interval '60 seconds'
    WHERE state = 'in_flight';

-- The simulator stands for a processor: it keeps its ledger in a file of its own
-- (gateway.simulator.ledger), never in billpayd's database.
DROP TABLE simulator_refunds;
DROP TABLE simulator_charges;
DROP TABLE simulator_tokens;
