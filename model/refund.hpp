#pragma once

#include <optional>
#include <string>

#include "model/money.hpp"

namespace billpay::model {

/// Money given back on a payment (a row of `refunds`): a refund, or a void before settlement.
struct refund_record {
    std::string id;  // ref_…
    std::string payment_id;
    model::money amount;
    std::string status;               // pending, succeeded, failed
    std::optional<std::string> kind;  // refund or void, once the processor said which
    std::string reason;
    std::string requested_by;
    std::optional<std::string> processor_reference;
    std::optional<std::string> failure_code;
    std::optional<std::string> failure_message;
    int attempts = 0;
    bool needs_review = false;
    std::string created_at;
    std::string updated_at;
};

}  // namespace billpay::model
