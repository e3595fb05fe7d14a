-- Whether a payment's processor token was made for it alone (a card typed for this payment, or a
-- browser token adopted for it) rather than one the processor already held or a saved card's.
-- Such a token is forgotten at the processor once the payment is final and the card was not
-- saved: Authorize.Net keeps at most ten payment profiles per customer.
ALTER TABLE payments ADD COLUMN token_owned boolean NOT NULL DEFAULT false;
