#pragma once

#include <string>

namespace billpay::model {

/// A message for the correspondence system, as the outbox keeps it until it is delivered
/// (store/outbox.hpp): its id (rcpt_…), type (payment_receipt, …) and JSON body.
struct outbox_entry {
    std::string id;
    std::string type;
    std::string body;
};

}  // namespace billpay::model
