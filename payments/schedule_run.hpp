#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "config/settings.hpp"
#include "payments/payment_service.hpp"
#include "store/idempotency_keys.hpp"
#include "store/payment_store.hpp"
#include "store/schedule_runs.hpp"

namespace billpay::payments {

struct run_options {
    std::string day;     // YYYY-MM-DD, the utility's day to charge (the caller's default: today)
    std::string run_id;  // run_…
    std::string host;    // "host:<name>", for schedule_runs
    int parallel = 8;    // charges in flight at once
    int batch = 200;     // items claimed at a time (their ends are one commit)
    /// How long a claim stays this run's without news from it (then another run takes it over).
    std::chrono::milliseconds lease{std::chrono::minutes(10)};
};

struct run_report {
    store::run_counts counts;  // due (claimed), charged, failed, pending, retrying
    std::int64_t planned_autopay = 0;
    std::int64_t notices = 0;   // autopay_upcoming and autopay_card_expiring queued
    std::int64_t canceled = 0;  // AutoPay charges no longer due (AutoPay ended, bill paid)
    std::int64_t released = 0;  // left for a later run: nothing could be learned now
    bool store_failed = false;  // the run stopped early: the database was unavailable
};

/// `billpayctl schedule run` (issue 20): on the utility's day, queues AutoPay's notices, plans
/// AutoPay's charges from the bills, then claims every due item (across processes: FOR UPDATE
/// SKIP LOCKED under a lease) and charges it as an ordinary payment through payment_service::pay,
/// under the idempotency key "<scheduled payment id>/<attempt>" of the client
/// "billpayd:schedule" or "billpayd:autopay". A run that dies leaves its claims to run out; the
/// run that takes one over claims the same key, so it replays the charge (or waits for recovery
/// to learn it) and never makes a second one. An outcome that is not known stays pending, and
/// the daemon's recovery worker learns it; a later run then records the item paid or failed.
class schedule_run {
  public:
    schedule_run(const config::settings& settings, store::schedule_run_store& runs,
                 store::idempotency_keys& keys, store::payment_store& payments,
                 payment_service& service)
        : settings_(settings), runs_(runs), keys_(keys), payments_(payments), service_(service) {}

    boost::asio::awaitable<run_report> run(const run_options& options);

  private:
    /// autopay_upcoming and autopay_card_expiring, each at most once.
    boost::asio::awaitable<std::int64_t> queue_autopay_notices(const std::string& day);
    /// Charges the items of one claimed batch, `parallel` at a time, then records how each
    /// ended in one transaction.
    boost::asio::awaitable<void> charge_batch(const std::vector<store::claimed_item>& batch,
                                              const run_options& options, run_report& report);
    /// How one claimed item ends.
    boost::asio::awaitable<store::item_outcome> charge_item(const store::claimed_item& item,
                                                            const run_options& options);
    /// Why the item is not to be charged (card removed or expired, AutoPay ended, bill paid,
    /// over the cap), or nullopt. Asked only once the item's key is this run's and holds no
    /// charge: before that, a charge may already stand under it.
    [[nodiscard]] std::optional<store::item_outcome> refusal_before_charge(
        const store::claimed_item& item, const run_options& options, store::item_outcome out) const;
    /// The item's charge under its key: replayed if one was made, else checked, then made.
    boost::asio::awaitable<store::item_outcome> charge(const store::claimed_item& item,
                                                       const run_options& options,
                                                       store::item_outcome out);
    /// How an item ends when its payment has come to `payment`'s status.
    [[nodiscard]] store::item_outcome after_payment(const store::claimed_item& item,
                                                    const model::payment_record& payment,
                                                    const run_options& options,
                                                    store::item_outcome out) const;

    const config::settings& settings_;
    store::schedule_run_store& runs_;
    store::idempotency_keys& keys_;
    store::payment_store& payments_;
    payment_service& service_;
};

/// The idempotency key attempt `attempt` of a scheduled payment is charged under.
std::string schedule_charge_key(const std::string& scheduled_payment_id, int attempt);

}  // namespace billpay::payments
