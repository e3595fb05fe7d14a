#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "store/errors.hpp"
#include "store/idempotency_keys.hpp"
#include "store/payment_methods.hpp"
#include "store/payment_records.hpp"

namespace billpay::store {

class database;

/// The duplicate-bill guard: a second payment of one account's bill within the window is
/// refused (unless the request confirmed it).
struct bill_guard {
    std::string bill_id;
    std::int64_t window_minutes = 0;
};

/// OPEN: everything that must be durable before any money moves, in one transaction.
struct open_request {
    payment_record payment;  // pending, with its id, token, card, customer and created_at
    key_lease key;           // the request's hold on its idempotency key
    std::optional<bill_guard> guard;
    /// The key stays the request's this long from now (renewed here); recovery leaves the
    /// payment alone until then.
    std::chrono::milliseconds lease{60'000};
};

enum class open_status {
    opened,              // the pending payment is recorded and tied to the key
    possible_duplicate,  // another payment of this bill is recent or running: nothing written
    lease_lost,          // the key is no longer this request's: nothing written, never charge
};

struct open_result {
    open_status status = open_status::opened;
    payment_record payment;                       // as stored, when opened
    std::optional<std::string> existing_payment;  // for possible_duplicate
};

/// The payment as OPEN stores it: pending, nothing refunded, never yet recovered.
[[nodiscard]] payment_record as_opened(const payment_record& payment);

/// What an OPEN whose answer was lost (the connection broke, the synchronous standby did not
/// confirm its commit) had done, learned afterwards under the key's row lock.
enum class lost_open {
    opened,      // it was written, and is durable now: the key holds the payment; charge it
    not_opened,  // nothing was written, nor ever will be: the key is given back already
    lease_lost,  // nothing of this request was written: the key is another request's
};

/// FINISH: the outcome, the answer the key replays and the message, in one transaction.
struct finish_request {
    payment_record payment;   // as OPEN (or recovery's claim) gave it: pending
    payment_outcome outcome;  // status pending: only the answer (202) and its notice
    stored_response answer;
    std::optional<outbox_entry> message;
};

/// What the recovery worker asks for.
struct recovery_claim {
    std::chrono::milliseconds pending_for{60'000};  // only payments at least this old
    int batch = 50;
    std::chrono::milliseconds retry_after{10'000};  // the next look at each, at the earliest
};

/// Where the payment use case (payments/) keeps payments and saved cards: the two writes a
/// payment needs, the reads on its path, and recovery's claims. Only store/ knows how they
/// reach PostgreSQL; a test may put a decorator in between.
class payment_store {
  public:
    virtual ~payment_store() = default;

    virtual boost::asio::awaitable<result<open_result>> open(const open_request& request) = 0;
    /// After open() failed other than busy: whether it wrote the payment. An error here leaves
    /// it unknown (and the key as it is).
    virtual boost::asio::awaitable<result<lost_open>> settle_lost_open(
        const open_request& request) = 0;
    /// The payment as it now stands (ours, or what a peer wrote first).
    virtual boost::asio::awaitable<result<payment_record>> finish(
        const finish_request& request) = 0;

    virtual boost::asio::awaitable<result<std::optional<payment_record>>> find_payment(
        const std::string& id) = 0;
    virtual boost::asio::awaitable<result<payment_page>> list_payments(
        const payment_filter& filter) = 0;

    virtual boost::asio::awaitable<result<std::optional<payment_method_record>>>
    find_payment_method(const std::string& id) = 0;
    virtual boost::asio::awaitable<result<std::vector<payment_method_record>>> list_payment_methods(
        const std::string& account_number) = 0;
    virtual boost::asio::awaitable<result<saved_method>> save_payment_method(
        const payment_method_record& method) = 0;
    /// False when it was deleted already.
    virtual boost::asio::awaitable<result<bool>> delete_payment_method(
        const std::string& id, const autopay_ended_notice& ended_notice) = 0;

    virtual boost::asio::awaitable<result<std::vector<payment_record>>> claim_for_recovery(
        const recovery_claim& claim) = 0;
    /// Flags a payment whose outcome could not be learned for finance to resolve by hand.
    virtual boost::asio::awaitable<result<void>> flag_for_review(const std::string& payment_id) = 0;
    /// Asks about a pending payment again only `after` from now, not counted toward review.
    virtual boost::asio::awaitable<result<void>> defer_recovery(
        const std::string& payment_id, std::chrono::milliseconds after) = 0;
};

/// The payment store on PostgreSQL.
class postgres_payment_store final : public payment_store {
  public:
    explicit postgres_payment_store(database& db) : db_(db) {}

    boost::asio::awaitable<result<open_result>> open(const open_request& request) override;
    boost::asio::awaitable<result<lost_open>> settle_lost_open(
        const open_request& request) override;
    boost::asio::awaitable<result<payment_record>> finish(const finish_request& request) override;
    boost::asio::awaitable<result<std::optional<payment_record>>> find_payment(
        const std::string& id) override;
    boost::asio::awaitable<result<payment_page>> list_payments(
        const payment_filter& filter) override;
    boost::asio::awaitable<result<std::optional<payment_method_record>>> find_payment_method(
        const std::string& id) override;
    boost::asio::awaitable<result<std::vector<payment_method_record>>> list_payment_methods(
        const std::string& account_number) override;
    boost::asio::awaitable<result<saved_method>> save_payment_method(
        const payment_method_record& method) override;
    boost::asio::awaitable<result<bool>> delete_payment_method(
        const std::string& id, const autopay_ended_notice& ended_notice) override;
    boost::asio::awaitable<result<std::vector<payment_record>>> claim_for_recovery(
        const recovery_claim& claim) override;
    boost::asio::awaitable<result<void>> flag_for_review(const std::string& payment_id) override;
    boost::asio::awaitable<result<void>> defer_recovery(const std::string& payment_id,
                                                        std::chrono::milliseconds after) override;

  private:
    database& db_;
};

/// OPEN on a connection of the caller's (for the store's own tests).
open_result open_payment(pqxx::connection& conn, const open_request& request);

}  // namespace billpay::store
