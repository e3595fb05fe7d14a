#include "gateway_adapters/stripe/stripe_errors.hpp"

#include <boost/json/parse.hpp>

namespace billpay::gateway::stripe {

mapped_error map_error(int http_status, std::string_view body) {
    std::string type;
    std::string code;
    std::string decline_code;
    std::string message;
    boost::system::error_code ec;
    auto doc = boost::json::parse(body, ec);
    if (!ec && doc.is_object() && doc.as_object().contains("error") &&
        doc.at("error").is_object()) {
        const auto& e = doc.at("error").as_object();
        auto text = [&e](const char* key) {
            auto it = e.find(key);
            return it != e.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                            : std::string();
        };
        type = text("type");
        code = text("code");
        decline_code = text("decline_code");
        message = text("message");
    }
    if (message.empty()) {
        message = "HTTP " + std::to_string(http_status);
    }
    // A key reused with other parameters, a concurrent request under it, or a server error:
    // what happened to the request is not known from this answer.
    if (http_status == 409 || http_status >= 500 || type == "idempotency_error") {
        return {refusal::indeterminate, "", message};
    }
    if (http_status == 429) {
        return {refusal::rate_limited, "rate_limited", message};
    }
    if (http_status == 402 || type == "card_error") {
        if (code == "processing_error") {
            return {refusal::processing_error, "processing_error", message};
        }
        if (!decline_code.empty()) {
            return {refusal::card_declined, decline_code, message};
        }
        // Card errors without an issuer decline code carry the reason in `code`.
        if (code == "expired_card" || code == "incorrect_cvc" || code == "incorrect_number" ||
            code == "invalid_cvc" || code == "invalid_expiry_month" ||
            code == "invalid_expiry_year" || code == "invalid_number") {
            return {refusal::card_declined, code, message};
        }
        return {refusal::card_declined, "generic_decline", message};
    }
    return {refusal::request_refused, code.empty() ? "processor_error" : code, message};
}

}  // namespace billpay::gateway::stripe
