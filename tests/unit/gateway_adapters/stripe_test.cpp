#include <gtest/gtest.h>

#include "gateway_adapters/stripe/stripe_errors.hpp"
#include "gateway_adapters/stripe/stripe_gateway.hpp"

namespace {

using namespace billpay::gateway;
using stripe::map_error;

using stripe::refusal;

TEST(StripeErrors, CardDeclinesCarryTheIssuersReason) {
    auto e = map_error(402, R"({"error": {"type": "card_error", "code": "card_declined",
        "decline_code": "insufficient_funds", "message": "Your card has insufficient funds."}})");
    EXPECT_EQ(e.kind, refusal::card_declined);
    EXPECT_EQ(e.decline_code, "insufficient_funds");
    EXPECT_EQ(map_error(402, R"({"error": {"type": "card_error", "code": "card_declined"}})")
                  .decline_code,
              "generic_decline");
    EXPECT_EQ(
        map_error(402, R"({"error": {"type": "card_error", "code": "expired_card"}})").decline_code,
        "expired_card");
    EXPECT_EQ(map_error(402, R"({"error": {"type": "card_error", "code": "incorrect_cvc"}})")
                  .decline_code,
              "incorrect_cvc");
}

TEST(StripeErrors, AProcessingErrorChargedNothing) {
    auto e = map_error(402, R"({"error": {"type": "card_error", "code": "processing_error"}})");
    EXPECT_EQ(e.kind, refusal::processing_error);
    EXPECT_EQ(e.decline_code, "processing_error");
}

TEST(StripeErrors, ServerErrorsAndConflictsSettleNothing) {
    EXPECT_EQ(map_error(500, R"({"error": {"type": "api_error"}})").kind, refusal::indeterminate);
    EXPECT_EQ(map_error(503, "not json").kind, refusal::indeterminate);
    EXPECT_EQ(map_error(409, R"({"error": {"type": "idempotency_error"}})").kind,
              refusal::indeterminate);
    // A key replayed with other parameters says nothing of what the first request did.
    EXPECT_EQ(map_error(400, R"({"error": {"type": "idempotency_error"}})").kind,
              refusal::indeterminate);
}

TEST(StripeErrors, RequestRefusalsAndRateLimitsAreToldApart) {
    auto missing = map_error(400, R"({"error": {"type": "invalid_request_error",
        "code": "parameter_missing"}})");
    EXPECT_EQ(missing.kind, refusal::request_refused);
    EXPECT_EQ(missing.decline_code, "parameter_missing");
    EXPECT_EQ(map_error(401, R"({"error": {"type": "invalid_request_error"}})").kind,
              refusal::request_refused);
    // Stripe did not act on a rate-limited request: it says nothing of an earlier attempt.
    auto limited = map_error(429, R"({"error": {"type": "rate_limit_error"}})");
    EXPECT_EQ(limited.kind, refusal::rate_limited);
    EXPECT_EQ(limited.decline_code, "rate_limited");
}

TEST(StripeForm, EncodesBracketsSpacesAndReservedCharacters) {
    billpay::https::client::request::body_type::value_type body;
    stripe::append_form(body, "card[number]", "4242");
    stripe::append_form(body, "payment_method_types[]", "card");
    stripe::append_form(body, "description", "Bill 2026/11 & more");
    EXPECT_EQ(std::string(body.data(), body.size()),
              "card%5Bnumber%5D=4242&payment_method_types%5B%5D=card"
              "&description=Bill%202026%2F11%20%26%20more");
}

}  // namespace
