#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/settings.hpp"
#include "gateway_adapters/gateway.hpp"
#include "model/key_lease.hpp"
#include "tokenizer/card_data.hpp"

namespace billpay::payments {

struct customer {
    std::string name;
    std::string email;
};

/// One bill payment, as the portal asked for it: the API parses it into this and checks it for
/// form (the card's number, expiry and CVC included); payment_service::check holds it to the
/// utility's rules (currency, amount limits, metadata keys) before its key is claimed.
/// Exactly one of `card`, `processor_token` and `payment_method` names the card.
struct pay_request {
    std::string request_id;  // for the log, and the answer the key replays
    model::key_lease key;    // the request's hold on its Idempotency-Key (set once claimed)
    std::string account_number;
    std::optional<std::string> bill_id;
    std::int64_t amount = 0;  // minor units of `currency`
    std::string currency;     // upper case, as sent
    /// Typed into the portal: in locked memory, wiped as soon as it is tokenized.
    std::optional<tokenizer::card_data> card;
    /// Tokenized in the customer's browser by the processor's own script (Stripe.js `pm_…`,
    /// Accept.js opaqueData): billpayd never sees that card's number.
    std::optional<gateway::browser_token> processor_token;
    /// A card the account saved before (`pm_…`).
    std::optional<std::string> payment_method;
    customer payer;
    bool save_payment_method = false;
    /// The customer means to pay this bill again within the duplicate window.
    bool confirm_duplicate = false;
    std::vector<std::pair<std::string, std::string>> metadata;  // sorted by key
};

/// A card to keep for an account (POST /v1/payment_methods), as the API parsed it: one of
/// `card` and `processor_token`.
struct save_card_request {
    std::string request_id;
    std::string client_id;  // set once the caller is known
    std::string account_number;
    std::optional<tokenizer::card_data> card;
    std::optional<gateway::browser_token> processor_token;
};

/// A request the utility's rules refuse, before anything is claimed or done: the field, a
/// stable code the portal can act on, and a message for its programmers (never the value).
struct refusal {
    std::string param;
    std::string code;
    std::string message;
};

/// The utility's currencies (payments.currencies), for a payment and a bill alike: a refusal of
/// `currency` (upper case, as sent) when it is not one of them.
std::optional<refusal> currency_refusal(const config::payments_settings& rules,
                                        const std::string& currency);

/// The utility's amount limits (payments.min_amount, max_amount), for a payment now or later.
std::optional<refusal> amount_refusal(const config::payments_settings& rules, std::int64_t amount);

}  // namespace billpay::payments
