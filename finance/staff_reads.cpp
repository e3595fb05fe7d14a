#include "finance/staff_reads.hpp"

#include <boost/json/serialize.hpp>

namespace billpay::finance {

namespace asio = boost::asio;
namespace json = boost::json;

asio::awaitable<bool> staff_reads::recorded(const reader& who, std::string action,
                                            std::string records, json::object details) {
    if (!who.staff) {
        co_return true;
    }
    const store::audit_entry entry{
        who.by.id, who.by.source,           std::move(action), std::move(records),
        "",        json::serialize(details)};
    co_return static_cast<bool>(co_await audit_.append(entry));
}

asio::awaitable<store::result<std::optional<model::payment_record>>> staff_reads::payment(
    const reader& who, const std::string& id) {
    auto found = co_await payments_.find_payment(id);
    if (!found) {
        co_return found;
    }
    if (!*found || (who.account && (*found)->account_number != *who.account)) {
        co_return std::optional<model::payment_record>{};
    }
    json::object details{{"account_number", (*found)->account_number}};
    if (!co_await recorded(who, "payments.read", id, std::move(details))) {
        co_return store::error::unavailable;
    }
    co_return found;
}

asio::awaitable<store::result<store::payment_page>> staff_reads::payments(
    const reader& who, const store::payment_filter& filter, const json::object& asked) {
    store::payment_filter scoped = filter;
    if (who.account) {
        scoped.account_number = who.account;
    }
    auto page = co_await payments_.list_payments(scoped);
    if (!page) {
        co_return page;
    }
    std::string ids;
    for (const auto& p : page->payments) {
        ids += (ids.empty() ? "" : ",") + p.id;
    }
    // Who, which, with what filter, from where.
    if (!co_await recorded(who, "payments.listed", std::move(ids), asked)) {
        co_return store::error::unavailable;
    }
    co_return page;
}

asio::awaitable<store::result<std::vector<model::payment_method_record>>>
staff_reads::payment_methods(const reader& who, const std::string& account_number) {
    auto methods = co_await payments_.list_payment_methods(account_number);
    if (!methods) {
        co_return methods;
    }
    if (!co_await recorded(who, "payment_methods.listed", account_number, {})) {
        co_return store::error::unavailable;
    }
    co_return methods;
}

asio::awaitable<store::result<
    std::pair<std::optional<model::payment_record>, std::vector<model::refund_record>>>>
staff_reads::refunds(const reader& who, const std::string& payment_id) {
    auto listed = co_await refunds_.list(payment_id);
    if (!listed || !listed->first) {
        co_return listed;
    }
    if (!co_await recorded(who, "refunds.listed", payment_id, {})) {
        co_return store::error::unavailable;
    }
    co_return listed;
}

asio::awaitable<store::result<daily_report>> staff_reads::daily(
    const reader& who, const std::string& from, const std::string& to, const std::string& time_zone,
    const std::string& format, const std::string& output) {
    auto report = co_await load_daily_report(settlements_, from, to, time_zone);
    if (!report) {
        co_return report;
    }
    json::object details{{"from", from}, {"to", to}};
    if (!format.empty()) {
        details["format"] = format;
        details["output"] = output.empty() ? "-" : output;
    }
    if (!co_await recorded(who, format.empty() ? "report.viewed" : "report.exported", "daily",
                           std::move(details))) {
        co_return store::error::unavailable;
    }
    co_return report;
}

asio::awaitable<store::result<daily_report>> staff_reads::general_ledger(
    const reader& who, const std::string& date, const std::string& time_zone,
    const std::string& output) {
    auto report = co_await load_daily_report(settlements_, date, date, time_zone);
    if (!report) {
        co_return report;
    }
    json::object details{{"date", date}, {"output", output.empty() ? "-" : output}};
    if (!co_await recorded(who, "report.gl_exported", "gl:" + date, std::move(details))) {
        co_return store::error::unavailable;
    }
    co_return report;
}

asio::awaitable<store::result<std::optional<store::reconciliation_run>>>
staff_reads::reconciliation(const reader& who, const std::string& id) {
    auto run = co_await settlements_.find_reconciliation(id);
    if (!run || !*run) {
        co_return run;
    }
    if (!co_await recorded(who, "reconciliation.viewed", id, {})) {
        co_return store::error::unavailable;
    }
    co_return run;
}

}  // namespace billpay::finance
