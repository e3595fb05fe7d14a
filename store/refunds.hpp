#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "store/audit.hpp"
#include "store/errors.hpp"
#include "store/payment_records.hpp"

namespace billpay::store {

class database;

/// One row of `refunds`.
struct refund_record {
    std::string id;  // ref_…
    std::string payment_id;
    model::money amount;
    std::string status;               // pending, succeeded, failed
    std::optional<std::string> kind;  // refund or void, once the processor said which
    std::string reason;
    std::string requested_by;
    std::optional<std::string> processor_reference;
    std::optional<std::string> failure_code;
    std::optional<std::string> failure_message;
    int attempts = 0;
    bool needs_review = false;
    std::string created_at;
    std::string updated_at;
};

enum class reserve_status {
    reserved,        // a pending refund now holds the amount
    no_payment,      // no such payment
    not_refundable,  // the payment did not succeed (or is refunded in full)
    too_much,        // more than what remains (after refunds succeeded or pending)
};

struct reserve_result {
    reserve_status status = reserve_status::no_payment;
    std::optional<payment_record> payment;
    std::optional<refund_record> refund;
    std::int64_t remaining = 0;  // what could still be refunded, before this one
};

/// Holds `amount` (nullopt: all that remains) of a payment for a new pending refund `refund_id`,
/// with the payment's row locked so that concurrent refunds are judged one after the other, and
/// records who asked (`audit`, action refund.requested) in the same transaction. The refund's
/// request holds it for `lease`: the retry worker leaves it alone until then.
reserve_result reserve_refund(pqxx::connection& conn, const std::string& refund_id,
                              const std::string& payment_id, std::optional<std::int64_t> amount,
                              const std::string& reason, const audit_entry& audit,
                              std::chrono::milliseconds lease);

/// What became of a refund at the processor.
struct refund_outcome {
    std::string status;  // succeeded or failed
    std::optional<std::string> kind;
    std::optional<std::string> processor_reference;
    std::optional<std::string> failure_code;
    std::optional<std::string> failure_message;
};

/// Renders the refund's message for the correspondence system, inside the same transaction.
using refund_message_renderer =
    std::function<std::optional<outbox_entry>(const payment_record&, const refund_record&)>;

/// Gives a pending refund its outcome; on success adds it to the payment's amount_refunded and
/// moves the payment to partially_refunded or refunded, adds the refund's receipt to the outbox
/// and the outcome to the audit trail, all in one transaction. A refund finished already is
/// returned as it stands.
std::pair<refund_record, payment_record> finish_refund(pqxx::connection& conn,
                                                       const std::string& refund_id,
                                                       const refund_outcome& outcome,
                                                       const refund_message_renderer& message,
                                                       const audit_entry& audit);

std::optional<refund_record> find_refund(pqxx::connection& conn, const std::string& id);
std::vector<refund_record> list_refunds(pqxx::connection& conn, const std::string& payment_id);

/// Claims pending refunds older than `pending_for_ms` whose next attempt is due, pushing the next
/// one `retry_after_ms` away (FOR UPDATE SKIP LOCKED, as for payments).
std::vector<refund_record> claim_refunds_to_retry(pqxx::connection& conn,
                                                  std::int64_t pending_for_ms, int batch,
                                                  std::int64_t retry_after_ms);

/// Flags a refund whose outcome could not be learned for finance to resolve by hand.
void mark_refund_needs_review(pqxx::connection& conn, const std::string& refund_id);

/// Refunds for the folders above the store (finance/).
class refund_store {
  public:
    explicit refund_store(database& db) : db_(db) {}

    boost::asio::awaitable<result<reserve_result>> reserve(const std::string& refund_id,
                                                           const std::string& payment_id,
                                                           std::optional<std::int64_t> amount,
                                                           const std::string& reason,
                                                           const audit_entry& audit,
                                                           std::chrono::milliseconds lease);
    boost::asio::awaitable<result<std::pair<refund_record, payment_record>>> finish(
        const std::string& refund_id, const refund_outcome& outcome,
        const refund_message_renderer& message, const audit_entry& audit);
    boost::asio::awaitable<result<std::optional<refund_record>>> find(const std::string& id);
    /// The payment and its refunds, oldest first.
    boost::asio::awaitable<
        result<std::pair<std::optional<payment_record>, std::vector<refund_record>>>>
    list(const std::string& payment_id);
    boost::asio::awaitable<result<std::optional<payment_record>>> payment_of(
        const refund_record& refund);
    boost::asio::awaitable<result<std::vector<refund_record>>> claim_for_retry(
        std::chrono::milliseconds pending_for, int batch, std::chrono::milliseconds retry_after);
    boost::asio::awaitable<result<void>> flag_for_review(const std::string& refund_id);

  private:
    database& db_;
};

}  // namespace billpay::store
