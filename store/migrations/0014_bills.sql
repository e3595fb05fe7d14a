-- Bills the utility's billing system announces (POST /v1/bills, issue 20): what AutoPay and the
-- customer pay, by their due date in the utility's time zone. One row per (account, bill id),
-- never changed once written: the same bill again is answered with the row, other content
-- under the same id is refused. Whether a bill is paid is read from `payments` (a payment of
-- that account and bill id that took money), never kept twice.
-- Safe while billpayd serves: a new table.
CREATE TABLE bills (
    account_number text NOT NULL,
    bill_id        text NOT NULL,
    amount_due     bigint NOT NULL CHECK (amount_due > 0),
    currency       char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    due_date       date NOT NULL,
    client_id      text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_number, bill_id)
);
-- What a day's run looks for: the bills due on or before a day.
CREATE INDEX bills_by_due_date ON bills (due_date);
