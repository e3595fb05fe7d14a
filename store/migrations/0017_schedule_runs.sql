-- What `billpayctl schedule run` needs (issue 20): the run's claims on scheduled payments, the
-- AutoPay charges it plans from bills, the customer an AutoPay enrollment writes to, and the
-- notices that are about an account rather than a payment.
-- Safe while billpayd serves: the columns are added without defaults that rewrite (constant
-- defaults are catalog-only), the CHECKs are NOT VALID (every existing row meets them: the old
-- type list, payment_id set or a breach notice), and the indexes are on scheduled_payments, a
-- table only the portal's schedules write (small), and on a new column of outbox_messages that
-- no row holds yet (built under a SHARE lock: new messages wait for it, seconds per ten million).

-- A scheduled payment is the customer's (`schedule`) or the AutoPay charge of one bill
-- (`autopay`, at most one per bill, planned by the run on the bill's day). `attempts` counts the
-- charges begun: attempt N's charge is under the idempotency key "<id>/N", so a run that
-- claims the item again after a crash replays the same charge. A retryable decline waits for
-- `next_attempt_on` (payments.schedule_retries). A run holds its claim (`running`) until
-- `claimed_until`; a claim that ran out belongs to a run that died, and another run takes it
-- over under the same attempt, hence the same key. `claimed_by` stays the run that looked last:
-- a run looks at an item once, so what it left (pending, or to try again) waits for the next.
ALTER TABLE scheduled_payments
    ADD COLUMN origin text NOT NULL DEFAULT 'schedule',
    ADD COLUMN attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_on date,
    ADD COLUMN claimed_by text,
    ADD COLUMN claimed_until timestamptz,
    ADD COLUMN failure_code text;
ALTER TABLE scheduled_payments ADD CONSTRAINT scheduled_payments_origin_check
    CHECK (origin IN ('schedule', 'autopay')) NOT VALID;
ALTER TABLE scheduled_payments ADD CONSTRAINT scheduled_payments_autopay_bill
    CHECK (origin = 'schedule' OR bill_id IS NOT NULL) NOT VALID;
DROP INDEX scheduled_payments_due;
-- What a run claims: the scheduled ones whose day has come, and claims that ran out.
CREATE INDEX scheduled_payments_due ON scheduled_payments (coalesce(next_attempt_on, pay_on))
    WHERE status = 'scheduled';
CREATE INDEX scheduled_payments_running ON scheduled_payments (claimed_until)
    WHERE status = 'running';
CREATE UNIQUE INDEX scheduled_payments_one_autopay_per_bill
    ON scheduled_payments (account_number, bill_id) WHERE origin = 'autopay';
CREATE INDEX scheduled_payments_by_payment ON scheduled_payments (payment_id)
    WHERE payment_id IS NOT NULL;

-- Who AutoPay's receipts and notices go to (given when enrolling, as for a payment). Deleted
-- with the enrollment.
ALTER TABLE autopay_enrollments ADD COLUMN customer_name text, ADD COLUMN customer_email text;

-- Notices about an account, not one payment (autopay_upcoming, autopay_card_expiring,
-- autopay_ended, scheduled_payment_failed): each has a key that says what it is about
-- ("autopay_upcoming/<account>/<bill>"), and is queued at most once per key, however often the
-- run goes over it. `account_number` lets the customer's export and breach scope find them.
ALTER TABLE outbox_messages ADD COLUMN notice_key text, ADD COLUMN account_number text;
ALTER TABLE outbox_messages DROP CONSTRAINT outbox_messages_type_check;
ALTER TABLE outbox_messages ADD CONSTRAINT outbox_messages_type_check CHECK (type IN
    ('payment_receipt', 'payment_declined', 'payment_pending', 'refund_receipt', 'breach_notice',
     'autopay_upcoming', 'autopay_card_expiring', 'autopay_ended', 'scheduled_payment_failed'))
    NOT VALID;
ALTER TABLE outbox_messages DROP CONSTRAINT outbox_messages_addressed;
ALTER TABLE outbox_messages ADD CONSTRAINT outbox_messages_addressed CHECK (
    CASE WHEN type = 'breach_notice'
         THEN incident_id IS NOT NULL AND recipient_key IS NOT NULL AND payment_id IS NULL
         WHEN type IN ('autopay_upcoming', 'autopay_card_expiring', 'autopay_ended',
                       'scheduled_payment_failed')
         THEN notice_key IS NOT NULL AND account_number IS NOT NULL
         ELSE payment_id IS NOT NULL END) NOT VALID;
CREATE UNIQUE INDEX outbox_messages_one_per_notice ON outbox_messages (notice_key)
    WHERE notice_key IS NOT NULL;
CREATE INDEX outbox_messages_by_account ON outbox_messages (account_number)
    WHERE account_number IS NOT NULL;

-- Each `billpayctl schedule run`: for the day it charged, what it found and did. The daemon's
-- metrics read the latest (billpayd_schedule_*), and the alert fires when the utility's day has
-- reached 09:00 without a finished run for it.
CREATE TABLE schedule_runs (
    id          text PRIMARY KEY,
    day         date NOT NULL,
    host        text NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    due         integer NOT NULL DEFAULT 0,
    charged     integer NOT NULL DEFAULT 0,
    failed      integer NOT NULL DEFAULT 0,
    pending     integer NOT NULL DEFAULT 0,
    retrying    integer NOT NULL DEFAULT 0
);
CREATE INDEX schedule_runs_by_day ON schedule_runs (day, finished_at);
