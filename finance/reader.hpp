#pragma once

#include <optional>
#include <string>

namespace billpay::finance {

/// Who reads: an API client (its id and address) or an operator at billpayctl ("billpayctl:<user>",
/// "host:<name>"). `staff` is every reader but the customer's own portal: the privacy policy
/// promises that only staff directly involved see customers' payment information, and that
/// every look is on record.
struct reader {
    std::string id;
    std::string source;
    bool staff = false;
    /// Set when the read names an account (the portal always does): another account's record
    /// is then as absent as one that does not exist.
    std::optional<std::string> account;
};

}  // namespace billpay::finance
