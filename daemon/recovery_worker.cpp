#include "daemon/recovery_worker.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <pqxx/pqxx>

#include "daemon/payments_api.hpp"
#include "logging/log.hpp"
#include "payments/ids.hpp"

namespace billpay::daemon {
namespace {
namespace asio = boost::asio;
constexpr int batch_size = 50;
}  // namespace

recovery_worker::recovery_worker(const config::settings& settings, store::database& database,
                                 gateway::gateway& processor, finance::refunds* refunds)
    : settings_(settings), database_(database), processor_(processor), refunds_(refunds) {}

asio::awaitable<void> recovery_worker::run() {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (!stopping_) {
        try {
            co_await recover_due();
        } catch (const std::exception& e) {
            logging::warn("payment recovery pass failed", {{"error", e.what()}});
        }
        if (refunds_ != nullptr) {
            try {
                const auto& cfg = settings_.payments.recovery;
                co_await refunds_->retry_pending(settings_.finance.refund_recovery_after,
                                                 cfg.interval, cfg.max_attempts);
            } catch (const std::exception& e) {
                logging::warn("refund recovery pass failed", {{"error", e.what()}});
            }
        }
        timer.expires_after(settings_.payments.recovery.interval);
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

asio::awaitable<int> recovery_worker::recover_due() {
    const auto& cfg = settings_.payments.recovery;
    auto due = co_await database_.run([&cfg](pqxx::connection& conn) {
        return store::claim_payments_to_recover(conn, cfg.after.count(), batch_size,
                                                cfg.interval.count());
    });
    int finished = 0;
    for (const auto& p : due) {
        const gateway::charge_request charge = payments_api::charge_request_for(p);
        auto found = co_await processor_.lookup(
            charge, std::chrono::steady_clock::now() + settings_.gateway.timeout);
        store::payment_outcome outcome;
        if (!found.found) {
            outcome.status = payments::payment_status::failed;
            outcome.decline_code = "processing_error";
            outcome.failure_message = "the processor never received the charge";
        } else if (found.charge.result == gateway::outcome::approved) {
            outcome.status = payments::payment_status::succeeded;
        } else if (found.charge.result == gateway::outcome::declined) {
            outcome.status = payments::payment_status::declined;
            outcome.decline_code =
                found.charge.decline_code.empty() ? "generic_decline" : found.charge.decline_code;
        } else if (found.charge.result == gateway::outcome::failed) {
            outcome.status = payments::payment_status::failed;
            outcome.decline_code = "processing_error";
        } else {
            if (p.recovery_attempts >= cfg.max_attempts) {
                co_await database_.run([&p](pqxx::connection& conn) {
                    store::mark_needs_review(conn, p.id);
                    return true;
                });
                logging::error("payment outcome still unknown: flagged for finance to resolve",
                               {{"payment_id", p.id}, {"attempts", p.recovery_attempts}});
            }
            continue;
        }
        if (!found.charge.processor_reference.empty()) {
            outcome.processor_reference = found.charge.processor_reference;
        }
        auto writers = payments_api::state_writers_for(payments::new_id("req"));
        auto record = co_await database_.run([&](pqxx::connection& conn) {
            return store::finish_payment(conn, p.id, outcome, writers);
        });
        logging::info("pending payment finished by recovery",
                      {{"payment_id", p.id},
                       {"status", payments::to_string(record.status)},
                       {"attempts", p.recovery_attempts}});
        ++finished;
    }
    co_return finished;
}

}  // namespace billpay::daemon
