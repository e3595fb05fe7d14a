#pragma once

#include <string>

namespace billpay::finance {

/// Who does something finance keeps a record of, and from where: for the audit trail.
struct actor {
    std::string id;      // the API client's id, or "billpayctl:<user>"
    std::string source;  // the client's address, or "host:<name>"
};

}  // namespace billpay::finance
