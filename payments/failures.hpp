#pragma once

#include <string_view>

#include "gateway_adapters/gateway.hpp"
#include "store/errors.hpp"

namespace billpay::payments {

/// The failures every payments use case can end in (pay a bill, save a card, delete a card),
/// named once: what the processor refused or could not do, and what the store could not do.
/// Each use case's status has these as one value (`refused`) and its own outcomes beside it;
/// the API turns each into its answer in one table (daemon/payments_api.cpp, `refusal`).
/// None of them moved money.
enum class failure {
    card_declined = 1,          // the processor refused the card when tokenizing it
    processor_unavailable,      // the processor could not be reached, or failed: nothing done
    unknown_processor_token,    // the processor does not know the browser-made token
    processor_token_not_owned,  // the browser-made token is another customer's
    too_many_cards,             // the processor keeps no more cards for this customer
    store_unavailable,          // PostgreSQL could not do it: nothing kept
    store_busy,                 // the store's queue was full or too slow: try again shortly
};

/// The failure's name, for the access log line ("card_declined", "store_busy", ...).
[[nodiscard]] std::string_view to_string(failure f) noexcept;

/// The store's word on a write or read that did not happen.
[[nodiscard]] failure failure_of(store::error e) noexcept;

/// Why a card could not be tokenized (`answer.result` is not approved).
[[nodiscard]] failure failure_of(const gateway::tokenize_result& answer) noexcept;

/// Why a browser-made token could not be adopted (`answer.result` is not approved).
[[nodiscard]] failure failure_of(const gateway::token_description& answer) noexcept;

}  // namespace billpay::payments
