#pragma once

#include <string>

namespace billpay::model {

/// Who does or reads something the audit trail keeps, and from where: an API client or an
/// operator at billpayctl.
struct actor {
    std::string id;      // the API client's id, or "billpayctl:<user>"
    std::string source;  // the client's address, or "host:<name>"
};

}  // namespace billpay::model
