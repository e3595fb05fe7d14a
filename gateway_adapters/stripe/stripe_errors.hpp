#pragma once

#include <string>
#include <string_view>

#include "gateway_adapters/gateway.hpp"

namespace billpay::gateway::stripe {

/// What kind of "no" a non-2xx Stripe answer is. Which outcome it means depends on the call
/// (and, on a repeat under the same key, on whether Stripe replayed its stored answer).
enum class refusal {
    card_declined,     // 402 card_error with a decline: Stripe executed it and the card said no
    processing_error,  // 402 card_error processing_error: Stripe executed it and it failed
    request_refused,   // another 4xx (400, 401, 403, 404): Stripe refused the request itself
    rate_limited,      // 429: Stripe did not act on it; says nothing of an earlier attempt
    indeterminate,     // 409 (a concurrent request under the key), idempotency_error, 5xx
};

/// A Stripe error answer: its HTTP status and error object
/// ({"error": {"type", "code", "decline_code", "message"}}) read for billpayd.
struct mapped_error {
    refusal kind;
    std::string decline_code;  // billpayd's code: the issuer's decline code, or Stripe's code
    std::string message;       // Stripe's message, for the log: it never carries card data
};

mapped_error map_error(int http_status, std::string_view body);

}  // namespace billpay::gateway::stripe
