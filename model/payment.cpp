#include "model/payment.hpp"

namespace billpay::model {

payment_record with_outcome(payment_record payment, const payment_outcome& outcome) {
    if (outcome.status == model::payment_status::pending) {
        return payment;
    }
    payment.status = outcome.status;
    if (outcome.processor_reference) {
        payment.processor_reference = outcome.processor_reference;
    }
    if (outcome.payment_method_id) {
        payment.payment_method_id = outcome.payment_method_id;
    }
    payment.decline_code = outcome.decline_code;
    payment.failure_message = outcome.failure_message;
    payment.updated_at = outcome.updated_at;
    return payment;
}

}  // namespace billpay::model
