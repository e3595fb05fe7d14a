#pragma once

#include <optional>
#include <string>

#include "model/money.hpp"

namespace billpay::model {

/// A bill the utility's billing system announced (a row of `bills`): what an account owes and
/// by when. It never changes once written.
struct bill_record {
    std::string account_number;
    std::string bill_id;
    model::money amount_due;
    std::string due_date;   // YYYY-MM-DD, the utility's day (payments.time_zone)
    std::string client_id;  // the billing system that sent it
    std::string created_at;
    /// The payment that paid it: the first of this account and bill id that took money
    /// (succeeded, or refunded since). Paid through the portal or by AutoPay alike.
    std::optional<std::string> paid_by;
};

}  // namespace billpay::model
