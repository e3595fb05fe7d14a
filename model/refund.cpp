#include "model/refund.hpp"

namespace billpay::model {

std::string_view to_string(refund_status status) noexcept {
    switch (status) {
        case refund_status::pending:
            return "pending";
        case refund_status::succeeded:
            return "succeeded";
        case refund_status::failed:
            return "failed";
    }
    return "failed";
}

std::optional<refund_status> parse_refund_status(std::string_view text) noexcept {
    for (auto status : {refund_status::pending, refund_status::succeeded, refund_status::failed}) {
        if (to_string(status) == text) {
            return status;
        }
    }
    return std::nullopt;
}

}  // namespace billpay::model
