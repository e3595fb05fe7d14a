#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>

#include "config/settings.hpp"
#include "finance/refunds.hpp"
#include "gateway_adapters/gateway.hpp"
#include "store/database.hpp"

namespace billpay::daemon {

/// Finishes payments whose processor answer was lost (config `payments.recovery`). Every
/// `interval` it claims pending payments older than `after` (SKIP LOCKED, so several billpayd
/// processes share the work), asks the processor what became of each charge by our key, and
/// records the outcome with the response its idempotency key will replay. It never charges:
/// a charge the processor never received is `failed` (nothing was taken; safe to pay again).
/// A payment still unanswered after `max_attempts` lookups is flagged `requires_review` for
/// finance, and left pending.
class recovery_worker {
  public:
    /// With `refunds`, each pass also asks again about refunds whose answer was lost
    /// (finance.refund_recovery_after, then as payments: interval and max_attempts).
    recovery_worker(const config::settings& settings, store::database& database,
                    gateway::gateway& processor, finance::refunds* refunds = nullptr);

    /// Runs until stop() is called.
    boost::asio::awaitable<void> run();
    void stop() { stopping_ = true; }

    /// One pass over the due payments; returns how many it finished.
    boost::asio::awaitable<int> recover_due();

  private:
    const config::settings& settings_;
    store::database& database_;
    gateway::gateway& processor_;
    finance::refunds* refunds_;
    std::atomic<bool> stopping_{false};
};

}  // namespace billpay::daemon
