#pragma once

#include <string>
#include <string_view>

namespace billpay::model {

/// The lower-case hex SHA-256 of `text`: idempotency fingerprints, migration checksums, the audit
/// chain, settlement import keys. Not for secrets that need a key (that is an HMAC).
std::string sha256_hex(std::string_view text);

/// The lower-case hex HMAC-SHA256 of `text` under `key`: the audit chain's signed checkpoints.
std::string hmac_sha256_hex(std::string_view key, std::string_view text);

/// Whether two signatures are equal, in time that does not depend on where they differ.
bool equal_in_constant_time(std::string_view a, std::string_view b);

}  // namespace billpay::model
