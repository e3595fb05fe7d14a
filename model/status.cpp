#include "model/status.hpp"

#include <array>
#include <utility>

namespace billpay::model {
namespace {

constexpr std::array<std::pair<payment_status, std::string_view>, 6> names{{
    {payment_status::pending, "pending"},
    {payment_status::succeeded, "succeeded"},
    {payment_status::declined, "declined"},
    {payment_status::failed, "failed"},
    {payment_status::partially_refunded, "partially_refunded"},
    {payment_status::refunded, "refunded"},
}};

}  // namespace

std::string_view to_string(payment_status status) noexcept {
    for (const auto& [s, name] : names) {
        if (s == status) {
            return name;
        }
    }
    return "pending";
}

std::optional<payment_status> parse_payment_status(std::string_view text) noexcept {
    for (const auto& [s, name] : names) {
        if (name == text) {
            return s;
        }
    }
    return std::nullopt;
}

bool can_transition(payment_status from, payment_status to) noexcept {
    using enum payment_status;
    switch (from) {
        case pending:
            return to == succeeded || to == declined || to == failed;
        case succeeded:
            return to == partially_refunded || to == refunded;
        case partially_refunded:
            return to == partially_refunded || to == refunded;
        case declined:
        case failed:
        case refunded:
            return false;
    }
    return false;
}

}  // namespace billpay::model
