#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "model/money.hpp"
#include "model/status.hpp"

namespace billpay::model {

/// What is kept of a card: never the number or the CVC.
struct card_record {
    std::string brand;
    std::string last4;
    int exp_month = 0;
    int exp_year = 0;
    std::string fingerprint;  // keyed (HMAC) fingerprint
};

/// A bill payment, as billpayd keeps it (a row of `payments`): tokens and transaction details,
/// never card data.
struct payment_record {
    std::string id;
    std::string client_id;
    std::string account_number;
    std::optional<std::string> bill_id;
    model::money amount;
    std::int64_t amount_refunded = 0;
    model::payment_status status = model::payment_status::pending;
    std::string confirmation;
    card_record card;
    std::optional<std::string> payment_method_id;
    std::string processor;
    std::string processor_token;
    /// The token was made for this payment alone: forgotten at the processor once it is final,
    /// unless the card was saved.
    bool token_owned = false;
    std::optional<std::string> processor_reference;
    std::optional<std::string> decline_code;
    std::optional<std::string> failure_message;
    std::string customer_name;   // "" once reduced
    std::string customer_email;  // the address the payment was sent to ("" once reduced)
    /// Where the payment's later notices go: the account's corrected email if it was corrected
    /// after this payment (PATCH /v1/accounts/…), else customer_email.
    std::string notify_email;
    std::string metadata_json = "{}";
    int recovery_attempts = 0;
    bool needs_review = false;
    std::string created_at;  // RFC 3339, UTC
    std::string updated_at;
    /// Retention reduced it (billpayctl purge): name, email, metadata, expiry, fingerprint gone.
    bool reduced = false;
};

/// What a payment's request (or the recovery worker) learned: its final status, or, with status
/// pending, only that the processor's answer is not known yet.
struct payment_outcome {
    model::payment_status status = model::payment_status::pending;
    std::optional<std::string> processor_reference;
    std::optional<std::string> payment_method_id;  // the card was saved as this, on success
    std::optional<std::string> decline_code;
    std::optional<std::string> failure_message;
    std::string updated_at;  // RFC 3339 (model::rfc3339_utc): when it became final
};

/// The payment as it stands once `outcome` is written (FINISH's own rule: a reference or saved
/// card learned is kept, one not learned leaves what was there). A pending outcome changes
/// nothing.
payment_record with_outcome(payment_record payment, const payment_outcome& outcome);

}  // namespace billpay::model
