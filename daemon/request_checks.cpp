#include "daemon/request_checks.hpp"

#include <string_view>

namespace billpay::daemon {

std::optional<api_error> header_refusal(const request& req, std::size_t max_header_bytes) {
    // The parser's own limit counts what one read brings; this counts the whole header.
    std::size_t bytes = req.method_string().size() + req.target().size() + 12;
    for (const auto& field : req) {
        bytes += field.name_string().size() + field.value().size() + 4;
    }
    if (bytes > max_header_bytes) {
        return api_error{http::status::request_header_fields_too_large,
                         error_type::invalid_request_error, "headers_too_large",
                         "The request's headers are too large."};
    }
    const auto hosts = req.count(http::field::host);
    if (hosts > 1 || (hosts == 0 && req.version() >= 11)) {
        return api_error{http::status::bad_request, error_type::invalid_request_error,
                         "invalid_host", "An HTTP/1.1 request needs exactly one Host header."};
    }
    if (req.count(http::field::transfer_encoding) > 0 && !req.chunked()) {
        // RFC 9112 6.3: a request whose last transfer coding is not chunked has no length.
        return api_error{http::status::bad_request, error_type::invalid_request_error,
                         "malformed_request", "Only the chunked transfer coding is understood."};
    }
    for (const auto& field : req) {
        const auto value = field.value();
        if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
            return api_error{http::status::bad_request, error_type::invalid_request_error,
                             "malformed_request",
                             "A header value holds a line break or a NUL (a folded header?)."};
        }
    }
    return std::nullopt;
}

}  // namespace billpay::daemon
