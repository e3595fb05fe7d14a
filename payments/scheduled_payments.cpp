#include "payments/scheduled_payments.hpp"

#include <chrono>

#include "model/ids.hpp"
#include "model/time.hpp"

namespace billpay::payments {

namespace asio = boost::asio;

namespace {

schedule_result ended(schedule_status status) {
    schedule_result out;
    out.status = status;
    return out;
}

schedule_result refused(store::error e) {
    schedule_result out;
    out.why = failure_of(e);
    return out;
}

/// Whether a card expiring at the end of `exp_month`/`exp_year` has expired by `day`.
bool expired_by(int exp_month, int exp_year, const std::string& day) {
    using namespace std::chrono;
    if (exp_month < 1 || exp_month > 12) {
        return false;  // not known: the run learns it from the processor
    }
    const auto last_day =
        sys_days{year{exp_year} / month{static_cast<unsigned>(exp_month)} / std::chrono::last};
    const auto on = model::parse_date(day);
    return !on || *on > last_day;
}

}  // namespace

std::optional<refusal> scheduled_payments::check(const schedule_request& request) const {
    if (auto refused = currency_refusal(settings_.payments, request.currency)) {
        return refused;
    }
    return amount_refusal(settings_.payments, request.amount);
}

asio::awaitable<schedule_result> scheduled_payments::schedule(const schedule_request& request) {
    auto method = co_await payments_.find_payment_method(request.payment_method);
    if (!method) {
        co_return refused(method.error());
    }
    if (!*method || (*method)->account_number != request.account_number) {
        co_return ended(schedule_status::no_such_payment_method);
    }
    if ((*method)->processor != processor_.name()) {
        co_return ended(schedule_status::payment_method_unusable);
    }
    const auto& card = (*method)->card;
    if (expired_by(card.exp_month, card.exp_year, request.pay_on)) {
        co_return ended(schedule_status::card_expires_before_pay_on);
    }
    model::scheduled_payment_record p;
    // From the key: a retry whose first answer was lost (the commit may stand) finds the one it
    // made instead of scheduling a second charge.
    p.id = model::id_for_key(
        "sch", "scheduled_payment\n" + request.client_id + "\n" + request.idempotency_key);
    p.client_id = request.client_id;
    p.account_number = request.account_number;
    p.bill_id = request.bill_id;
    p.amount = model::money{request.amount, model::currency::parse(request.currency).value()};
    p.payment_method_id = request.payment_method;
    p.pay_on = request.pay_on;
    p.customer_name = request.payer.name;
    p.customer_email = request.payer.email;
    auto written = co_await store_.schedule(p, settings_.payments.time_zone,
                                            settings_.payments.schedule_horizon_days);
    if (!written) {
        co_return refused(written.error());
    }
    schedule_result out;
    switch (written->status) {
        case store::schedule_write::scheduled:
            out.status = schedule_status::scheduled;
            out.payment = std::move(written->payment);
            break;
        case store::schedule_write::pay_on_out_of_range:
            out.status = schedule_status::pay_on_out_of_range;
            out.today = written->today;
            break;
        case store::schedule_write::no_such_payment_method:
            out.status = schedule_status::no_such_payment_method;
            break;
        case store::schedule_write::id_taken:
            out.status = schedule_status::key_reused;
            break;
    }
    co_return out;
}

asio::awaitable<schedule_result> scheduled_payments::list(const std::string& account_number) {
    auto listed = co_await store_.list(account_number);
    if (!listed) {
        co_return refused(listed.error());
    }
    schedule_result out;
    out.status = schedule_status::listed;
    out.payments = std::move(*listed);
    co_return out;
}

asio::awaitable<schedule_result> scheduled_payments::cancel(const std::string& id,
                                                            const std::string& account_number) {
    auto canceled = co_await store_.cancel(id, account_number);
    if (!canceled) {
        co_return refused(canceled.error());
    }
    schedule_result out;
    switch (canceled->status) {
        case store::cancel_write::canceled:
            out.status = schedule_status::canceled;
            break;
        case store::cancel_write::not_found:
            out.status = schedule_status::not_found;
            break;
        case store::cancel_write::in_progress:
            out.status = schedule_status::in_progress;
            break;
    }
    out.payment = std::move(canceled->payment);
    co_return out;
}

}  // namespace billpay::payments
