-- AutoPay (issue 20): an account's standing order to pay each bill from one saved card,
-- `days_before_due` days before its due date, never above `max_amount` when one is set. One
-- enrollment per account; it ends when the customer ends it or deletes its card (in the same
-- transaction that deletes the card, so no run charges a card that is gone).
-- Safe while billpayd serves: a new table.
CREATE TABLE autopay_enrollments (
    account_number    text PRIMARY KEY,
    payment_method_id text NOT NULL REFERENCES payment_methods (id),
    days_before_due   integer NOT NULL CHECK (days_before_due BETWEEN 0 AND 10),
    max_amount        bigint CHECK (max_amount IS NULL OR max_amount > 0),
    client_id         text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX autopay_by_payment_method ON autopay_enrollments (payment_method_id);
