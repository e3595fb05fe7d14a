#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "model/refund.hpp"
#include "store/audit.hpp"
#include "store/errors.hpp"
#include "store/idempotency_keys.hpp"
#include "store/payment_records.hpp"

namespace billpay::store {

using model::refund_record;

class database;

enum class reserve_status {
    reserved,        // a pending refund now holds the amount (and, with a key, is its key's)
    no_payment,      // no such payment
    not_refundable,  // the payment did not succeed (or is refunded in full)
    too_much,        // more than what remains (after refunds succeeded or pending)
    lease_lost,      // the key is no longer this request's: nothing written, never send it
    exists,          // a refund with this id was reserved before (billpayctl's key): `refund`
};

struct reserve_result {
    reserve_status status = reserve_status::no_payment;
    std::optional<payment_record> payment;
    std::optional<refund_record> refund;
    std::int64_t remaining = 0;  // what could still be refunded, before this one
};

/// What a refund is asked for.
struct refund_hold {
    std::string refund_id;
    std::string payment_id;
    std::optional<std::int64_t> amount;  // nullopt: all that remains
    std::string reason;
    /// The request's hold on its Idempotency-Key (the API's); billpayctl's refunds have none
    /// (their id derives from the operator's key instead).
    std::optional<key_lease> key;
    /// The refund's request holds it this long (and its key, renewed here): the retry worker
    /// leaves it alone until then.
    std::chrono::milliseconds lease{60'000};
};

/// Holds the amount of a payment for a new pending refund, with the payment's row locked so
/// that concurrent refunds are judged one after the other, and records who asked (`audit`,
/// action refund.requested) in the same transaction. With a key: only while the key is still
/// the request's (its row locked), and the refund is recorded on the key in that transaction.
reserve_result reserve_refund(pqxx::connection& conn, const refund_hold& hold,
                              const audit_entry& audit);

/// What a refund whose reserve lost its answer had done, learned under its key's row lock.
enum class lost_reserve {
    reserved,      // it was written, and is durable now: send it
    not_reserved,  // nothing was written, nor ever will be: the key is given back already
    lease_lost,    // nothing of this request was written: the key is another request's
};

/// The answer a refund's Idempotency-Key replays once the refund is finished, or nullopt for a
/// refund that refunded nothing and gives its key back instead. Written with the outcome.
using refund_key_answer = std::function<std::optional<stored_response>(const refund_record&)>;

/// What became of a refund at the processor.
struct refund_outcome {
    model::refund_status status = model::refund_status::failed;  // succeeded or failed
    std::optional<std::string> kind;
    std::optional<std::string> processor_reference;
    std::optional<std::string> failure_code;
    std::optional<std::string> failure_message;
};

/// Renders the refund's message for the correspondence system, inside the same transaction.
using refund_message_renderer =
    std::function<std::optional<outbox_entry>(const payment_record&, const refund_record&)>;

/// Gives a pending refund its outcome; on success adds it to the payment's amount_refunded and
/// moves the payment to partially_refunded or refunded, adds the refund's receipt to the outbox,
/// the outcome to the audit trail and (`key_answer`) the answer its key replays, all in one
/// transaction. A refund finished already is returned as it stands.
std::pair<refund_record, payment_record> finish_refund(pqxx::connection& conn,
                                                       const std::string& refund_id,
                                                       const refund_outcome& outcome,
                                                       const refund_message_renderer& message,
                                                       const refund_key_answer& key_answer,
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

/// Refunds for the folders above the store (finance/). Virtual, so that a test may put a
/// decorator in between (a reserve whose answer is lost).
class refund_store {
  public:
    explicit refund_store(database& db) : db_(db) {}
    virtual ~refund_store() = default;
    refund_store(const refund_store&) = delete;
    refund_store& operator=(const refund_store&) = delete;

    virtual boost::asio::awaitable<result<reserve_result>> reserve(const refund_hold& hold,
                                                                   const audit_entry& audit);
    /// After reserve() failed other than busy, for a hold with a key: whether it wrote the
    /// refund. An error here leaves it unknown (and the key as it is).
    virtual boost::asio::awaitable<result<lost_reserve>> settle_lost_reserve(
        const refund_hold& hold);
    virtual boost::asio::awaitable<result<std::pair<refund_record, payment_record>>> finish(
        const std::string& refund_id, const refund_outcome& outcome,
        const refund_message_renderer& message, const refund_key_answer& key_answer,
        const audit_entry& audit);
    virtual boost::asio::awaitable<result<std::optional<refund_record>>> find(
        const std::string& id);
    /// The payment and its refunds, oldest first.
    virtual boost::asio::awaitable<
        result<std::pair<std::optional<payment_record>, std::vector<refund_record>>>>
    list(const std::string& payment_id);
    virtual boost::asio::awaitable<result<std::optional<payment_record>>> payment_of(
        const refund_record& refund);
    virtual boost::asio::awaitable<result<std::vector<refund_record>>> claim_for_retry(
        std::chrono::milliseconds pending_for, int batch, std::chrono::milliseconds retry_after);
    virtual boost::asio::awaitable<result<void>> flag_for_review(const std::string& refund_id);

  private:
    database& db_;
};

}  // namespace billpay::store
