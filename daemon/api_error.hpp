#pragma once

#include <boost/json/object.hpp>
#include <boost/system/result.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/http_types.hpp"
#include "payments/failures.hpp"
#include "store/errors.hpp"

namespace billpay::daemon {

/// The error types of DESIGN.md's error shape.
enum class error_type {
    invalid_request_error,
    authentication_error,
    permission_error,
    idempotency_error,
    card_error,
    rate_limit_error,
    api_error,
};

/// Every refusal the API gives, as one value: the HTTP status and the members of DESIGN.md's
/// error object, {"error": {"type", "code", "message", "param"?, "decline_code"?, …,
/// "request_id"}}. `message` must never quote what the client sent (it may be card data).
struct api_error {
    api_error() = default;
    api_error(http::status s, error_type t, std::string c, std::string m, std::string p = {})
        : status(s), type(t), code(std::move(c)), message(std::move(m)), param(std::move(p)) {}

    http::status status = http::status::internal_server_error;
    error_type type = error_type::api_error;
    std::string code;
    std::string message;
    std::string param;
    std::string decline_code;
    boost::json::object details;  // further members of the error object: "payment", "refund"
    std::vector<std::pair<http::field, std::string>> headers;  // WWW-Authenticate, Retry-After
};

/// What a handler returns: its response, or the refusal that render() turns into one.
using api_result = boost::system::result<response, api_error>;

/// For api_result::value() on an error (a handler that did not look): a defect, thrown.
[[noreturn]] void throw_exception_from_error(const api_error& e, const boost::source_location& loc);

/// The one rendering of an API error, body and headers: every refusal a client sees goes
/// through here.
response render(const api_error& e, std::string_view request_id);
/// Its body alone (for an answer an idempotency key stores).
std::string render_body(const api_error& e, std::string_view request_id);

// The refusals more than one handler gives.

/// 400 invalid_request_error naming the field.
api_error invalid_request(std::string param, std::string code, std::string message);
/// 404 resource_missing.
api_error not_found(std::string message, std::string param = "id");
/// 503 database_unavailable (or store_busy with Retry-After), saying what was not done
/// ("nothing was charged") and that the same Idempotency-Key may be sent again.
api_error store_failure(store::error e, std::string_view nothing_done = "nothing was charged");
/// The same for a request without an Idempotency-Key that is safe to send again as it is (a
/// bill, an AutoPay PUT or DELETE, a cancel, a read), from the use case's store failure: busy
/// (the job never ran: nothing was done) or unavailable (whether `what` took effect is not
/// known: never "nothing was done", only that the same request again takes effect once).
api_error store_failure_resend(payments::failure why, std::string_view what);
/// 502 processor_unavailable.
api_error processor_unavailable(std::string message);
/// 409 idempotency_key_in_use: a request with the key runs (or ran and lost the key's lease).
api_error idempotency_key_in_use();
/// 503 `code` (payment_outcome_unknown, refund_outcome_unknown): the database failed while
/// recording `what` ("payment", "refund") and could not say afterwards whether it had; the
/// same key finds it, a new key could make a second.
api_error outcome_unknown(std::string code, std::string_view what, std::string_view may_still);

}  // namespace billpay::daemon
