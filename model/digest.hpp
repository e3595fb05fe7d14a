#pragma once

#include <string>
#include <string_view>

namespace billpay::model {

/// The lower-case hex SHA-256 of `text`: idempotency fingerprints, migration checksums, the audit
/// chain, settlement import keys. Not for secrets that need a key (that is an HMAC).
std::string sha256_hex(std::string_view text);

}  // namespace billpay::model
