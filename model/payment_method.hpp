#pragma once

#include <string>

#include "model/payment.hpp"

namespace billpay::model {

/// A card saved for an account, as a processor token (a row of `payment_methods`).
struct payment_method_record {
    std::string id;
    std::string client_id;
    std::string account_number;
    std::string processor;
    std::string processor_token;
    card_record card;
    std::string created_at;
};

}  // namespace billpay::model
