#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "model/money.hpp"

namespace billpay::model {

/// Where a scheduled payment stands: `scheduled` until its day's run claims it (it may be
/// canceled until then), `running` while the run charges it, then `paid` or `failed`.
enum class schedule_status { scheduled, running, paid, failed, canceled };

[[nodiscard]] std::string_view to_string(schedule_status status) noexcept;
[[nodiscard]] std::optional<schedule_status> parse_schedule_status(std::string_view text) noexcept;

/// A payment a customer scheduled for a later day (a row of `scheduled_payments`).
struct scheduled_payment_record {
    std::string id;  // sch_…
    std::string client_id;
    std::string account_number;
    std::optional<std::string> bill_id;
    model::money amount;
    std::string payment_method_id;
    std::string pay_on;  // YYYY-MM-DD, the utility's day
    std::string customer_name;
    std::string customer_email;
    schedule_status status = schedule_status::scheduled;
    std::optional<std::string> payment_id;  // the payment its run made
    std::string created_at;
    std::string updated_at;
};

}  // namespace billpay::model
