-- Payments a customer scheduled for a later day (POST /v1/scheduled_payments, issue 20). Each is
-- charged once by `billpayctl schedule run` on its `pay_on` day in the utility's time zone, as
-- an ordinary payment under an idempotency key derived from its id; until its run begins it may
-- be canceled. The customer's name and email ride along for the receipt, and are removed by
-- retention as a payment's are.
-- Safe while billpayd serves: a new table.
CREATE TABLE scheduled_payments (
    id                text PRIMARY KEY CHECK (id LIKE 'sch\_%'),
    client_id         text NOT NULL,
    account_number    text NOT NULL,
    bill_id           text,
    amount            bigint NOT NULL CHECK (amount > 0),
    currency          char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    payment_method_id text NOT NULL REFERENCES payment_methods (id),
    pay_on            date NOT NULL,
    customer_name     text,
    customer_email    text,
    status            text NOT NULL DEFAULT 'scheduled'
                      CHECK (status IN ('scheduled', 'running', 'paid', 'failed', 'canceled')),
    payment_id        text REFERENCES payments (id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    reduced_at        timestamptz
);
-- What a day's run claims: the scheduled ones whose day has come.
CREATE INDEX scheduled_payments_due ON scheduled_payments (pay_on) WHERE status = 'scheduled';
CREATE INDEX scheduled_payments_by_account ON scheduled_payments (account_number, pay_on);
