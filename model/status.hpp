#pragma once

#include <optional>
#include <string_view>

namespace billpay::model {

/// Where a payment stands. The only ways forward:
///   pending   -> succeeded | declined | failed
///   succeeded -> partially_refunded | refunded
///   partially_refunded -> partially_refunded | refunded
/// declined, failed and refunded are final. The store refuses any other change (in C++ and with
/// a trigger in PostgreSQL), so no code path can, say, turn a declined payment into a success.
enum class payment_status { pending, succeeded, declined, failed, partially_refunded, refunded };

[[nodiscard]] std::string_view to_string(payment_status status) noexcept;
[[nodiscard]] std::optional<payment_status> parse_payment_status(std::string_view text) noexcept;

/// Whether `from` may become `to`.
[[nodiscard]] bool can_transition(payment_status from, payment_status to) noexcept;

}  // namespace billpay::model
