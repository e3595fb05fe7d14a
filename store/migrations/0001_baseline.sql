-- The baseline of billpayd's schema. schema_migrations itself is created by the migrator (it
-- must exist before any migration can be recorded); the tables of payments, payment methods,
-- idempotency keys and the receipt outbox arrive in the migrations that follow, each with the
-- feature that needs it.
--
-- Money is always bigint minor units with a char(3) ISO 4217 currency; time is timestamptz.
-- No table ever holds a card number, a CVC or a full expiry date in any form but the stored
-- card of tokenizer/ (brand, last 4, expiry month/year, keyed fingerprint).
SELECT 1;
