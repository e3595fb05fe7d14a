#include "model/scheduled_payment.hpp"

namespace billpay::model {

std::string_view to_string(schedule_status status) noexcept {
    switch (status) {
        case schedule_status::scheduled:
            return "scheduled";
        case schedule_status::running:
            return "running";
        case schedule_status::paid:
            return "paid";
        case schedule_status::failed:
            return "failed";
        case schedule_status::canceled:
            return "canceled";
    }
    return "failed";
}

std::optional<schedule_status> parse_schedule_status(std::string_view text) noexcept {
    for (auto status : {schedule_status::scheduled, schedule_status::running, schedule_status::paid,
                        schedule_status::failed, schedule_status::canceled}) {
        if (to_string(status) == text) {
            return status;
        }
    }
    return std::nullopt;
}

}  // namespace billpay::model
