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

/// Where a payment came from: the portal (a customer paying now), a payment the customer
/// scheduled, or AutoPay. The schedule run charges under billpayd's own client ids
/// ("billpayd:schedule", "billpayd:autopay"), which no configured client may take, so a
/// payment's origin is read from its client id and kept with it for as long as the payment.
enum class payment_origin { portal, schedule, autopay };

[[nodiscard]] std::string_view to_string(payment_origin origin) noexcept;
/// The client id the schedule run charges under for a scheduled payment of `origin`.
[[nodiscard]] std::string_view client_of(payment_origin origin) noexcept;
/// A payment's origin, from its client id.
[[nodiscard]] payment_origin origin_of_client(std::string_view client_id) noexcept;

/// A payment a customer scheduled for a later day, or the AutoPay charge of one bill (a row of
/// `scheduled_payments`).
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
    std::optional<std::string> payment_id;  // the payment its run made (the latest attempt's)
    payment_origin origin = payment_origin::schedule;  // schedule or autopay
    int attempts = 0;                                  // charges begun
    std::optional<std::string> next_attempt_on;        // a retry's day, after a decline
    std::optional<std::string> failure_code;           // why the last attempt failed
    std::string created_at;
    std::string updated_at;
};

}  // namespace billpay::model
