#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <pqxx/connection>
#include <pqxx/transaction_base>
#include <string>
#include <string_view>
#include <vector>

#include "store/audit.hpp"
#include "store/errors.hpp"
#include "store/outbox_signal.hpp"

namespace billpay::store {

class database;

/// A message for the correspondence system, as the outbox keeps it.
struct outbox_message {
    std::string id;  // rcpt_…, the same on every attempt
    std::string type;
    std::string payment_id;  // "" for a breach_notice
    std::string body;        // the JSON document sent, rendered once ("" once purged)
    std::string status;
    int attempts = 0;
    std::string created_at;
    std::optional<std::string> last_error;
    std::optional<int> last_http_status;
    double age_seconds = 0;
};

/// Adds a message inside the caller's transaction (the one that gives the payment its status).
/// A payment has at most one message of each type: adding it again does nothing. No NOTIFY:
/// the dispatcher of this process is woken in-process (database::messages_added), the others
/// find the message at their next poll.
void enqueue_message(pqxx::transaction_base& tx, const std::string& id, const std::string& type,
                     const std::string& payment_id, const std::string& body);

/// Adds a refund's refund_receipt the same way: one per refund (a payment may have several).
void enqueue_refund_message(pqxx::transaction_base& tx, const std::string& id,
                            const std::string& payment_id, const std::string& refund_id,
                            const std::string& body);

/// Claims up to `batch` due messages for this process for `lease`, with FOR UPDATE SKIP LOCKED:
/// several billpayd processes share the outbox and never hold one message at once.
std::vector<outbox_message> claim_due_messages(pqxx::connection& conn, int batch,
                                               std::chrono::milliseconds lease);

enum class delivery_outcome { delivered, retry, dead };
std::string_view to_string(delivery_outcome outcome) noexcept;

/// One delivery attempt's outcome: delivered; retry after `retry_after`; or dead (kept, visible).
struct delivery_attempt {
    std::string message_id;
    delivery_outcome outcome = delivery_outcome::retry;
    std::optional<int> http_status;
    std::string error;  // empty when there was none
    std::chrono::milliseconds retry_after{0};
};

/// Records a batch's attempts (the messages and the attempts log) in one statement. Its commit
/// does not wait for the disk: an attempt lost in a crash only sends its message again, and the
/// receiver de-duplicates by message id.
void record_attempts(pqxx::connection& conn, const std::vector<delivery_attempt>& attempts,
                     const std::string& actor);

/// Messages by status ("pending", "failed" = pending after a failed attempt, "dead",
/// "delivered"; empty: every undelivered one), oldest first.
std::vector<outbox_message> list_messages(pqxx::connection& conn, const std::string& status,
                                          int limit);

/// Puts a dead or delivered message back in the queue, recorded in the attempts log and the
/// audit trail (`audit`), in one transaction. False when there is no such message; throws
/// failure(error::conflict) when retention purged its body (it cannot be sent again).
bool replay_message(pqxx::connection& conn, const std::string& message_id, const std::string& actor,
                    const audit_entry& audit);

struct outbox_stats {
    std::int64_t backlog = 0;  // pending messages
    std::int64_t dead = 0;
    double oldest_pending_age_seconds = 0;
};

outbox_stats outbox_statistics(pqxx::connection& conn);

/// The outbox for the folders above the store: the dispatcher's claims and attempts, and the
/// operators' listing, replay and figures.
class outbox {
  public:
    explicit outbox(database& db) : db_(db) {}

    boost::asio::awaitable<result<std::vector<outbox_message>>> claim_due(
        int batch, std::chrono::milliseconds lease);
    boost::asio::awaitable<result<void>> record(std::vector<delivery_attempt> attempts,
                                                const std::string& actor);
    boost::asio::awaitable<result<std::vector<outbox_message>>> list(const std::string& status,
                                                                     int limit);
    /// error::not_found when there is no such message.
    boost::asio::awaitable<result<void>> replay(const std::string& message_id,
                                                const std::string& actor, const audit_entry& audit);
    boost::asio::awaitable<result<outbox_stats>> statistics();

    /// Raised in this process after a commit that may have added a message.
    [[nodiscard]] outbox_signal& messages_added() noexcept;

  private:
    database& db_;
};

}  // namespace billpay::store
