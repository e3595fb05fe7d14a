#include "daemon/api_error.hpp"

#include <boost/json/serialize.hpp>
#include <stdexcept>

namespace billpay::daemon {
namespace {

std::string_view type_name(error_type type) {
    switch (type) {
        case error_type::invalid_request_error:
            return "invalid_request_error";
        case error_type::authentication_error:
            return "authentication_error";
        case error_type::permission_error:
            return "permission_error";
        case error_type::idempotency_error:
            return "idempotency_error";
        case error_type::card_error:
            return "card_error";
        case error_type::rate_limit_error:
            return "rate_limit_error";
        case error_type::api_error:
            return "api_error";
    }
    return "api_error";
}

boost::json::object error_object(const api_error& e, std::string_view request_id) {
    boost::json::object error;
    error["type"] = type_name(e.type);
    error["code"] = e.code;
    error["message"] = e.message;
    if (!e.param.empty()) {
        error["param"] = e.param;
    }
    if (!e.decline_code.empty()) {
        error["decline_code"] = e.decline_code;
    }
    for (const auto& [key, value] : e.details) {
        error[key] = value;
    }
    error["request_id"] = request_id;
    return boost::json::object{{"error", std::move(error)}};
}

}  // namespace

void throw_exception_from_error(const api_error& e, const boost::source_location&) {
    throw std::logic_error("an API refusal was taken for a response: " + e.code);
}

std::string render_body(const api_error& e, std::string_view request_id) {
    return boost::json::serialize(error_object(e, request_id));
}

response render(const api_error& e, std::string_view request_id) {
    auto res = json_response(e.status, error_object(e, request_id));
    for (const auto& [field, value] : e.headers) {
        res.set(field, value);
    }
    return res;
}

api_error invalid_request(std::string param, std::string code, std::string message) {
    return {http::status::bad_request, error_type::invalid_request_error, std::move(code),
            std::move(message), std::move(param)};
}

api_error not_found(std::string message, std::string param) {
    return {http::status::not_found, error_type::invalid_request_error, "resource_missing",
            std::move(message), std::move(param)};
}

api_error store_failure(store::error e, std::string_view nothing_done) {
    if (e == store::error::busy) {
        api_error busy{http::status::service_unavailable, error_type::api_error, "store_busy",
                       "billpayd is too busy to take this now; " + std::string(nothing_done) +
                           ". Try again shortly with the same Idempotency-Key."};
        busy.headers.emplace_back(http::field::retry_after, "1");
        return busy;
    }
    return {http::status::service_unavailable, error_type::api_error, "database_unavailable",
            "billpayd cannot reach its database; " + std::string(nothing_done) +
                ". Try again with the same Idempotency-Key."};
}

api_error store_failure_resend(payments::failure why, std::string_view what) {
    if (why == payments::failure::store_busy) {
        api_error busy{http::status::service_unavailable, error_type::api_error, "store_busy",
                       "billpayd is too busy to take this now; nothing was done. Send the same "
                       "request again shortly."};
        busy.headers.emplace_back(http::field::retry_after, "1");
        return busy;
    }
    return {http::status::service_unavailable, error_type::api_error, "database_unavailable",
            "billpayd cannot reach its database; whether this " + std::string(what) +
                " took effect is not known. Sending the same request again is safe: it takes "
                "effect once."};
}

api_error idempotency_key_in_use() {
    return {http::status::conflict, error_type::idempotency_error, "idempotency_key_in_use",
            "A request with this Idempotency-Key is still being processed. Try again shortly."};
}

api_error outcome_unknown(std::string code, std::string_view what, std::string_view may_still) {
    const std::string w(what);
    return {http::status::service_unavailable, error_type::api_error, std::move(code),
            "The database failed while recording this " + w +
                ", and whether it was recorded is "
                "not known: it may still be " +
                std::string(may_still) +
                ". Retry with the same "
                "Idempotency-Key: the retry finds this " +
                w +
                " if it was recorded (409 while it is "
                "finished, then its answer), and never makes a second one."};
}

api_error processor_unavailable(std::string message) {
    return {http::status::bad_gateway, error_type::api_error, "processor_unavailable",
            std::move(message)};
}

}  // namespace billpay::daemon
