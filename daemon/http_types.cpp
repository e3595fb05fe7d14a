#include "daemon/http_types.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

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

}  // namespace

response json_response(http::status status, const boost::json::value& body) {
    response res{status, 11};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");
    res.body() = boost::json::serialize(body);
    res.prepare_payload();
    return res;
}

response error_response(http::status status, error_type type, std::string_view code,
                        std::string_view message, std::string_view request_id,
                        std::string_view param) {
    boost::json::object error;
    error["type"] = type_name(type);
    error["code"] = code;
    error["message"] = message;
    if (!param.empty()) {
        error["param"] = param;
    }
    error["request_id"] = request_id;
    return json_response(status, boost::json::object{{"error", std::move(error)}});
}

}  // namespace billpay::daemon
