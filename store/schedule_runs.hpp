#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "model/autopay.hpp"
#include "model/bill.hpp"
#include "model/outbox_entry.hpp"
#include "model/payment.hpp"
#include "model/scheduled_payment.hpp"
#include "store/errors.hpp"

namespace billpay::store {

class database;

/// One scheduled payment a run claimed (status running, its attempt counted), with what the run
/// checks before it charges: whether its card is still saved and when it expires, and for an
/// AutoPay charge whether the account still pays its bills from that card, up to what amount,
/// and whether the bill is paid already.
struct claimed_item {
    model::scheduled_payment_record payment;
    bool card_saved = false;  // the card is still the account's (not deleted)
    int card_exp_month = 0;   // 0 once deleted
    int card_exp_year = 0;
    std::string card_brand;
    std::string card_last4;
    bool enrolled = false;  // autopay: the enrollment still pays from this card
    std::optional<std::int64_t> max_amount;
    std::optional<std::string> bill_paid_by;  // autopay: the payment that paid the bill
    std::optional<std::string> due_date;      // autopay: the bill's due date
};

struct run_claim {
    std::string run_id;
    std::string day;  // YYYY-MM-DD, the utility's day the run charges
    int batch = 200;
    /// How long the claim stays this run's without news from it: longer than a batch's
    /// charges take. A claim that ran out is another run's to take over (same attempt, same key).
    std::chrono::milliseconds lease{std::chrono::minutes(10)};
};

/// How a run ends one claimed item.
enum class item_end {
    paid,      // its payment succeeded: `payment_id`
    failed,    // given up: `failure_code`, and the customer's notice
    retry,     // declined, tried again on `next_attempt_on` (status scheduled again)
    canceled,  // not to be charged after all (AutoPay ended, its bill paid): no notice
    pending,   // charged, its outcome unknown: recovery learns it; looked at again after `hold`
    release,   // nothing learned (the store or processor was unavailable, another run holds
               // its key): claimed again after `hold`, under the same attempt and key
};

/// A notice about an account (not one payment), queued at most once per `key`.
struct account_notice {
    std::string key;  // what it is about: "autopay_upcoming/<account>/<bill>"
    std::string account_number;
    model::outbox_entry message;
};

struct item_outcome {
    std::string id;
    std::string run_id;
    item_end end = item_end::release;
    std::optional<std::string> payment_id;
    std::optional<std::string> failure_code;
    std::optional<std::string> next_attempt_on;
    bool attempt_uncounted = false;  // retry: this attempt charged nothing and does not count
    std::chrono::milliseconds hold{std::chrono::minutes(1)};
    std::optional<account_notice> notice;  // failed: scheduled_payment_failed
};

/// A bill AutoPay will charge soon, and the enrollment that will pay it (autopay_upcoming).
struct upcoming_charge {
    model::bill_record bill;
    model::autopay_enrollment enrollment;
    std::string charge_on;  // YYYY-MM-DD: due date minus days_before_due
    std::string card_brand;
    std::string card_last4;
};

/// An enrollment whose card expires within a month of the day (autopay_card_expiring).
struct expiring_card {
    model::autopay_enrollment enrollment;
    std::string card_brand;
    std::string card_last4;
    int exp_month = 0;
    int exp_year = 0;
};

/// What a run did, for its row in schedule_runs.
struct run_counts {
    std::int64_t due = 0;
    std::int64_t charged = 0;
    std::int64_t failed = 0;
    std::int64_t pending = 0;
    std::int64_t retrying = 0;
};

/// The latest finished run, and what waits (the daemon's metrics).
struct schedule_figures {
    std::optional<std::string> last_finished_day;  // the day the latest finished run charged
    double last_finished_at = 0;                   // Unix seconds, 0 when none
    run_counts last;
    std::int64_t due_now = 0;  // scheduled, their day come, not yet claimed
    std::int64_t running = 0;  // claimed (a run charges them, or recovery learns the outcome)
    bool run_overdue = false;  // the utility's day reached 09:00 without a finished run for it
};

/// The schedule run's records (`billpayctl schedule run`): plans AutoPay's charges from bills,
/// claims due items across processes (FOR UPDATE SKIP LOCKED, under a lease), records how each
/// ended with its notice in the same transaction, and keeps each run's counts.
class schedule_run_store {
  public:
    virtual ~schedule_run_store() = default;

    /// The utility's day (YYYY-MM-DD in `time_zone`) at the instant `at` (RFC 3339; "" = now).
    virtual boost::asio::awaitable<result<std::string>> local_day(const std::string& time_zone,
                                                                  const std::string& at) = 0;
    /// Records the run's start (schedule_runs).
    virtual boost::asio::awaitable<result<void>> begin_run(const std::string& run_id,
                                                           const std::string& day,
                                                           const std::string& host) = 0;
    virtual boost::asio::awaitable<result<void>> end_run(const std::string& run_id,
                                                         const run_counts& counts) = 0;

    /// Writes the AutoPay charge (a scheduled payment of origin autopay, at most one per bill) of
    /// every unpaid bill of an enrolled account whose due date minus days_before_due has come by
    /// `day`, and that falls due on or after the day it enrolled (in `time_zone`). The number
    /// written.
    virtual boost::asio::awaitable<result<std::int64_t>> plan_autopay(
        const std::string& day, const std::string& time_zone) = 0;

    /// Bills AutoPay charges after `day` and at most `notice_days` after it, not noticed yet.
    virtual boost::asio::awaitable<result<std::vector<upcoming_charge>>> upcoming_charges(
        const std::string& day, int notice_days, const std::string& time_zone) = 0;
    /// Enrollments whose card's last day of validity is within a month after `day`.
    virtual boost::asio::awaitable<result<std::vector<expiring_card>>> expiring_cards(
        const std::string& day) = 0;
    /// Queues the notices whose key is not queued yet; the number queued.
    virtual boost::asio::awaitable<result<std::int64_t>> queue_notices(
        const std::vector<account_notice>& notices) = 0;

    virtual boost::asio::awaitable<result<std::vector<claimed_item>>> claim(
        const run_claim& claim) = 0;
    /// The payment written under an idempotency key, if any.
    virtual boost::asio::awaitable<result<std::optional<std::string>>> payment_of_key(
        const std::string& client_id, const std::string& key) = 0;
    /// How each item of a batch ended, with its notice, in one transaction (one commit for the
    /// batch: a run that dies before it leaves the items claimed, and the next run replays their
    /// keys). Per outcome, false when the claim is no longer this run's (another run took it
    /// over): nothing written for it.
    virtual boost::asio::awaitable<result<std::vector<bool>>> end_items(
        const std::vector<item_outcome>& outcomes) = 0;

    virtual boost::asio::awaitable<result<schedule_figures>> figures(
        const std::string& time_zone) = 0;
};

/// schedule_run_store on PostgreSQL.
class schedule_run_records final : public schedule_run_store {
  public:
    explicit schedule_run_records(database& db) : db_(db) {}

    boost::asio::awaitable<result<std::string>> local_day(const std::string& time_zone,
                                                          const std::string& at) override;
    boost::asio::awaitable<result<void>> begin_run(const std::string& run_id,
                                                   const std::string& day,
                                                   const std::string& host) override;
    boost::asio::awaitable<result<void>> end_run(const std::string& run_id,
                                                 const run_counts& counts) override;
    boost::asio::awaitable<result<std::int64_t>> plan_autopay(
        const std::string& day, const std::string& time_zone) override;
    boost::asio::awaitable<result<std::vector<upcoming_charge>>> upcoming_charges(
        const std::string& day, int notice_days, const std::string& time_zone) override;
    boost::asio::awaitable<result<std::vector<expiring_card>>> expiring_cards(
        const std::string& day) override;
    boost::asio::awaitable<result<std::int64_t>> queue_notices(
        const std::vector<account_notice>& notices) override;
    boost::asio::awaitable<result<std::vector<claimed_item>>> claim(
        const run_claim& claim) override;
    boost::asio::awaitable<result<std::optional<std::string>>> payment_of_key(
        const std::string& client_id, const std::string& key) override;
    boost::asio::awaitable<result<std::vector<bool>>> end_items(
        const std::vector<item_outcome>& outcomes) override;
    boost::asio::awaitable<result<schedule_figures>> figures(const std::string& time_zone) override;

  private:
    database& db_;
};

/// Queues one account notice inside the caller's transaction (nothing when its key is queued).
/// True when it was queued now.
bool enqueue_account_notice(pqxx::transaction_base& tx, const account_notice& notice);

}  // namespace billpay::store
