-- The privacy policy (docs/privacy.md): records reduced once retention ends, the email a
-- customer's later notices go to, breach notices through the outbox, and signed checkpoints of
-- the audit chain. Safe to apply while billpayd serves: dropping NOT NULL and adding columns
-- without defaults change the catalog only, and the CHECKs are NOT VALID (every existing row
-- already meets them: the columns were NOT NULL, the types the old list), so PostgreSQL checks
-- new rows without scanning old ones under a lock. The one index on outbox_messages is built
-- under a SHARE lock: writes of new messages wait for it (seconds per ten million messages).
-- No new index on the payment's path: purge finds old rows through the
-- time indexes there are (payments_by_time, refunds_by_time, idempotency_keys_by_age,
-- outbox_messages_by_status).

-- A payment reduced by `billpayctl purge` keeps what reconciliation and the general ledger need
-- (amounts, currency, status, dates, processor references, the account number) and loses the
-- customer's name and email, its metadata, the card's expiry and fingerprint.
ALTER TABLE payments ALTER COLUMN customer_name DROP NOT NULL,
                     ALTER COLUMN customer_email DROP NOT NULL,
                     ALTER COLUMN card_exp_month DROP NOT NULL,
                     ALTER COLUMN card_exp_year DROP NOT NULL,
                     ALTER COLUMN card_fingerprint DROP NOT NULL,
                     ADD COLUMN reduced_at timestamptz;
ALTER TABLE payments ADD CONSTRAINT payments_reduced_or_whole CHECK (
    reduced_at IS NOT NULL OR (customer_name IS NOT NULL AND customer_email IS NOT NULL
        AND card_exp_month IS NOT NULL AND card_exp_year IS NOT NULL
        AND card_fingerprint IS NOT NULL)) NOT VALID;

-- How far each kind of record is purged: every row older than `reduced_through` is done, so a
-- nightly purge reads only the rows since (without it, each batch read every row reduced in
-- earlier years again). It stays at the oldest row still not done (a payment still pending).
CREATE TABLE retention_watermarks (
    kind            text PRIMARY KEY,
    reduced_through timestamptz NOT NULL
);

-- A refund's free-text reason is cleared when it is reduced.
ALTER TABLE refunds ADD COLUMN reduced_at timestamptz;

-- A deleted saved card keeps only its brand, last 4 and dates (payments name it): its token,
-- expiry and fingerprint go when it is deleted.
ALTER TABLE payment_methods ALTER COLUMN card_exp_month DROP NOT NULL,
                            ALTER COLUMN card_exp_year DROP NOT NULL,
                            ALTER COLUMN card_fingerprint DROP NOT NULL,
                            ALTER COLUMN processor_token DROP NOT NULL;
ALTER TABLE payment_methods ADD CONSTRAINT payment_methods_deleted_or_whole CHECK (
    deleted_at IS NOT NULL OR (card_exp_month IS NOT NULL AND card_exp_year IS NOT NULL
        AND card_fingerprint IS NOT NULL AND processor_token IS NOT NULL)) NOT VALID;

-- The email an account's later notices go to, as the portal corrected it
-- (PATCH /v1/accounts/{account_number}). A payment keeps the address it was sent to; a
-- correction made after a payment applies to that payment's later notices (its refund receipt,
-- its receipt after recovery) and to breach notices. The newer of this and the account's latest
-- payment is the account's current email.
CREATE TABLE account_contacts (
    account_number  text PRIMARY KEY,
    email           text NOT NULL,
    updated_by      text NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Breach notices travel the receipts' path: one outbox message per incident and recipient
-- (recipient_key: SHA-256 of the lower-cased address), however often `breach notify` runs.
-- Delivered messages' bodies are purged under retention (body_purged_at): such a message cannot
-- be replayed.
ALTER TABLE outbox_messages ALTER COLUMN payment_id DROP NOT NULL,
                            ALTER COLUMN body DROP NOT NULL,
                            ADD COLUMN incident_id text,
                            ADD COLUMN recipient_key text,
                            ADD COLUMN body_purged_at timestamptz;
ALTER TABLE outbox_messages DROP CONSTRAINT outbox_messages_type_check;
ALTER TABLE outbox_messages ADD CONSTRAINT outbox_messages_type_check CHECK (type IN
    ('payment_receipt', 'payment_declined', 'payment_pending', 'refund_receipt', 'breach_notice')) NOT VALID;
ALTER TABLE outbox_messages ADD CONSTRAINT outbox_messages_addressed CHECK (
    CASE WHEN type = 'breach_notice'
         THEN incident_id IS NOT NULL AND recipient_key IS NOT NULL AND payment_id IS NULL
         ELSE payment_id IS NOT NULL END) NOT VALID;
ALTER TABLE outbox_messages ADD CONSTRAINT outbox_messages_body_kept CHECK (
    body IS NOT NULL OR body_purged_at IS NOT NULL) NOT VALID;
CREATE UNIQUE INDEX outbox_messages_one_per_incident_recipient
    ON outbox_messages (incident_id, recipient_key) WHERE type = 'breach_notice';

-- The last row of each day of the audit chain, signed (HMAC-SHA256) with a key that lives
-- outside the database (audit.checkpoint_key_file). `billpayctl audit verify` checks every
-- checkpoint against the chain, so rows cut from the end of the log before the latest
-- checkpoint are caught, and a checkpoint older than its allowance says rows after it may be.
CREATE TABLE audit_checkpoints (
    day             date PRIMARY KEY,
    last_id         bigint NOT NULL,
    last_hash       text NOT NULL,
    rows_through    bigint NOT NULL,
    signature       text NOT NULL,
    signed_at       timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
