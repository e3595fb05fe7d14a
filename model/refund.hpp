#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "model/money.hpp"

namespace billpay::model {

/// Where a refund stands: `pending` from its reserve until the processor's word is known (a
/// pending refund holds its amount against the payment), then `succeeded` (money went back) or
/// `failed` (nothing did). The refunds table's CHECK allows these three; nothing moves a
/// finished refund.
enum class refund_status { pending, succeeded, failed };

[[nodiscard]] std::string_view to_string(refund_status status) noexcept;
[[nodiscard]] std::optional<refund_status> parse_refund_status(std::string_view text) noexcept;

/// Money given back on a payment (a row of `refunds`): a refund, or a void before settlement.
struct refund_record {
    std::string id;  // ref_…
    std::string payment_id;
    model::money amount;
    refund_status status = refund_status::pending;
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
