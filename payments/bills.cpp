#include "payments/bills.hpp"

namespace billpay::payments {

namespace asio = boost::asio;

std::optional<refusal> bills::check(const bill_request& request) const {
    return currency_refusal(settings_.payments, request.currency);
}

asio::awaitable<bill_result> bills::receive(const bill_request& request) {
    model::bill_record bill;
    bill.account_number = request.account_number;
    bill.bill_id = request.bill_id;
    bill.amount_due =
        model::money{request.amount_due, model::currency::parse(request.currency).value()};
    bill.due_date = request.due_date;
    bill.client_id = request.client_id;
    auto written = co_await store_.record(bill);
    bill_result out;
    if (!written) {
        out.why = failure_of(written.error());
        co_return out;
    }
    switch (written->status) {
        case store::bill_write::created:
            out.status = bill_status::recorded;
            break;
        case store::bill_write::unchanged:
            out.status = bill_status::unchanged;
            break;
        case store::bill_write::conflict:
            out.status = bill_status::conflict;
            break;
    }
    out.bill = std::move(written->bill);
    co_return out;
}

}  // namespace billpay::payments
