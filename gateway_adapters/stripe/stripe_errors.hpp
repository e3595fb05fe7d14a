#pragma once

#include <string>
#include <string_view>

#include "gateway_adapters/gateway.hpp"

namespace billpay::gateway::stripe {

/// What a Stripe answer means for billpayd: its HTTP status and error object
/// ({"error": {"type", "code", "decline_code", "message"}}) mapped onto an outcome and one of
/// billpayd's decline codes.
struct mapped_error {
    outcome result;
    std::string decline_code;
    std::string message;  // Stripe's message, for the log: it never carries card data
};

/// Maps a non-2xx Stripe response. 402 card errors are declines (`processing_error` is a
/// failure: nothing was charged); 400/401/403/404 are failures of the request; 409 (a
/// concurrent request with the same key), an idempotency_error and 5xx leave the outcome
/// unknown; 429 means Stripe did not process the request.
mapped_error map_error(int http_status, std::string_view body);

}  // namespace billpay::gateway::stripe
