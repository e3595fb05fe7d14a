#pragma once

#include <ctime>
#include <string>
#include <string_view>

namespace billpay::correspondence {

/// `Billpay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`, Stripe's
/// webhook scheme. The receiver recomputes it over the raw body and rejects stale timestamps.
std::string signature_header(std::string_view secret, std::time_t timestamp, std::string_view body);

enum class signature_check {
    valid,
    malformed,  // not "t=<digits>,v1=<64 hex>" (other v1 or unknown schemes beside it are fine)
    stale,      // the timestamp is more than `tolerance_seconds` from `now`: a replay
    mismatch,   // no v1 signature matches the body under the secret
};

/// The receiver's side, as docs/correspondence.md describes it, for the correspondence system's
/// programmers to use or copy: parses the header (several v1 values are allowed, for a secret
/// being rotated), recomputes the HMAC over the raw body and compares in constant time.
signature_check verify_signature(std::string_view secret, std::string_view header,
                                 std::string_view body, std::time_t now,
                                 long tolerance_seconds = 300);

}  // namespace billpay::correspondence
