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

std::string_view to_string(payment_origin origin) noexcept {
    switch (origin) {
        case payment_origin::portal:
            return "portal";
        case payment_origin::schedule:
            return "schedule";
        case payment_origin::autopay:
            return "autopay";
    }
    return "portal";
}

std::string_view client_of(payment_origin origin) noexcept {
    return origin == payment_origin::autopay ? "billpayd:autopay" : "billpayd:schedule";
}

payment_origin origin_of_client(std::string_view client_id) noexcept {
    if (client_id == client_of(payment_origin::autopay)) {
        return payment_origin::autopay;
    }
    if (client_id == client_of(payment_origin::schedule)) {
        return payment_origin::schedule;
    }
    return payment_origin::portal;
}

}  // namespace billpay::model
