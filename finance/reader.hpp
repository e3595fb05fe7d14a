#pragma once

#include <optional>
#include <string>

#include "model/actor.hpp"

namespace billpay::finance {

/// Who reads (an API client, or an operator at billpayctl) and for whom. `staff` is every reader
/// but the customer's own portal: the privacy policy promises that only staff directly involved see
/// customers' payment information, and that every look is on record.
struct reader {
    model::actor by;
    bool staff = false;
    /// Set when the read names an account (the portal always does): another account's record
    /// is then as absent as one that does not exist.
    std::optional<std::string> account;
};

}  // namespace billpay::finance
