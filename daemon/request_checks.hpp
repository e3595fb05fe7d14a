#pragma once

#include <cstddef>
#include <optional>

#include "daemon/api_error.hpp"
#include "daemon/http_types.hpp"

namespace billpay::daemon {

/// Headers that a careful server refuses before anything else (RFC 9112): an HTTP/1.1 request
/// needs exactly one Host; a Transfer-Encoding other than chunked has no length; a header value
/// holding a line break or a NUL is how requests are smuggled past proxies that read it
/// otherwise; the header as a whole may not pass `max_header_bytes`. Nothing when it is fine.
std::optional<api_error> header_refusal(const request& req, std::size_t max_header_bytes);

}  // namespace billpay::daemon
