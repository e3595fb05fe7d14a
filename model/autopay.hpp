#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace billpay::model {

/// An account's AutoPay (a row of `autopay_enrollments`): each bill of the account is paid from
/// `payment_method_id` `days_before_due` days before its due date, unless it is above
/// `max_amount` (then the customer gets a notice instead).
struct autopay_enrollment {
    std::string account_number;
    std::string payment_method_id;
    int days_before_due = 0;                 // 0-10
    std::optional<std::int64_t> max_amount;  // minor units of the bill's currency
    std::string client_id;                   // the portal that enrolled it
    std::string customer_name;               // who its receipts and notices go to
    std::string customer_email;
    std::string created_at;
    std::string updated_at;
};

}  // namespace billpay::model
