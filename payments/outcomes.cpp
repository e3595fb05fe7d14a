#include "payments/outcomes.hpp"

namespace billpay::payments {

model::payment_outcome outcome_of(const gateway::charge_result& answer) {
    using model::payment_status;
    model::payment_outcome out;
    if (!answer.processor_reference.empty()) {
        out.processor_reference = answer.processor_reference;
    }
    switch (answer.result) {
        case gateway::outcome::approved:
            out.status = payment_status::succeeded;
            break;
        case gateway::outcome::declined:
            out.status = payment_status::declined;
            out.decline_code =
                answer.decline_code.empty() ? "generic_decline" : answer.decline_code;
            break;
        case gateway::outcome::failed:
            out.status = payment_status::failed;
            out.decline_code =
                answer.decline_code.empty() ? "processing_error" : answer.decline_code;
            out.failure_message = answer.message;
            break;
        case gateway::outcome::unknown:
            out.status = payment_status::pending;
            out.processor_reference.reset();  // nothing is settled by it
            break;
    }
    return out;
}

}  // namespace billpay::payments
