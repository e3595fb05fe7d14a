#include "payments/autopay.hpp"

namespace billpay::payments {

namespace asio = boost::asio;

namespace {

autopay_result refused(store::error e) {
    autopay_result out;
    out.why = failure_of(e);
    return out;
}

}  // namespace

asio::awaitable<autopay_result> autopay::enroll(const autopay_request& request) {
    autopay_result out;
    // The card must be chargeable by the processor billpayd uses now, as for a payment with it.
    auto method = co_await payments_.find_payment_method(request.payment_method);
    if (!method) {
        co_return refused(method.error());
    }
    if (!*method || (*method)->account_number != request.account_number) {
        out.status = autopay_status::no_such_payment_method;
        co_return out;
    }
    if ((*method)->processor != processor_.name()) {
        out.status = autopay_status::payment_method_unusable;
        co_return out;
    }
    model::autopay_enrollment e;
    e.account_number = request.account_number;
    e.payment_method_id = request.payment_method;
    e.days_before_due = request.days_before_due;
    e.max_amount = request.max_amount;
    e.client_id = request.client_id;
    e.customer_name = request.payer.name;
    e.customer_email = request.payer.email;
    auto enrolled = co_await enrollments_.enroll(e);
    if (!enrolled) {
        co_return refused(enrolled.error());
    }
    if (!*enrolled) {  // deleted in between
        out.status = autopay_status::no_such_payment_method;
        co_return out;
    }
    out.status = autopay_status::enrolled;
    out.enrollment = std::move(*enrolled);
    co_return out;
}

asio::awaitable<autopay_result> autopay::show(const std::string& account_number) {
    auto found = co_await enrollments_.find(account_number);
    if (!found) {
        co_return refused(found.error());
    }
    autopay_result out;
    out.status = *found ? autopay_status::enrolled : autopay_status::not_enrolled;
    out.enrollment = std::move(*found);
    co_return out;
}

asio::awaitable<autopay_result> autopay::end(const std::string& account_number) {
    auto ended = co_await enrollments_.end(account_number);
    if (!ended) {
        co_return refused(ended.error());
    }
    autopay_result out;
    out.status = *ended ? autopay_status::ended : autopay_status::not_enrolled;
    co_return out;
}

}  // namespace billpay::payments
