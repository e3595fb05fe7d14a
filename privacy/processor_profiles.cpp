#include "privacy/processor_profiles.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <set>

namespace billpay::privacy {

namespace asio = boost::asio;
namespace json = boost::json;

asio::awaitable<purge_report> purge_processor_profiles(gateway::gateway& processor,
                                                       store::privacy_store& records,
                                                       const purge_options& options,
                                                       const model::actor& by) {
    purge_report report;
    report.processor = std::string(processor.name());
    auto deadline = [&] { return std::chrono::steady_clock::now() + options.timeout; };

    auto listed = co_await processor.list_customers(deadline());
    if (listed.result != gateway::outcome::approved) {
        report.not_listed = listed.message;
        co_return report;
    }
    report.listed = listed.ids.size();
    asio::steady_timer window(co_await asio::this_coro::executor, options.charge_window);
    co_await window.async_wait(asio::use_awaitable);
    auto tokens = co_await records.processor_tokens_in_use(report.processor,
                                                           options.charge_window.count() * 2);
    if (!tokens) {
        report.in_use_unknown = tokens.error();
        co_return report;
    }
    std::set<std::string> in_use;
    for (const auto& token : *tokens) {
        if (auto customer = processor.customer_of(token)) {
            in_use.insert(*customer);
        }
    }
    for (const auto& id : listed.ids) {
        if (in_use.contains(id)) {
            ++report.in_use;
            continue;
        }
        if (options.dry_run) {
            report.deleted.push_back(id);
            continue;
        }
        auto forgotten = co_await processor.forget_customer(id, deadline());
        if (forgotten.result == gateway::outcome::approved) {
            report.deleted.push_back(id);
        } else if (forgotten.result == gateway::outcome::declined) {
            ++report.foreign;
        } else {
            report.failed.emplace_back(id, forgotten.message);
        }
    }
    if (!options.dry_run) {
        const auto deleted = static_cast<std::int64_t>(report.deleted.size());
        const auto failed = static_cast<std::int64_t>(report.failed.size());
        const json::object details{
            {"deleted", deleted}, {"in_use", report.in_use}, {"failed", failed}};
        store::audit_entry entry{by.id,
                                 by.source,
                                 "processor.profiles_purged",
                                 report.processor,
                                 "",
                                 json::serialize(details)};
        auto audited = co_await records.audit(std::move(entry));
        if (!audited) {
            report.audit_failure = audited.error();
        }
    }
    co_return report;
}

}  // namespace billpay::privacy
