#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <pqxx/connection>
#include <pqxx/transaction_base>
#include <string>
#include <thread>
#include <vector>

#include "store/audit.hpp"
#include "store/errors.hpp"

namespace billpay::store {

class database;

/// A message for the correspondence system, as the outbox keeps it.
struct outbox_message {
    std::string id;  // rcpt_…, the same on every attempt
    std::string type;
    std::string payment_id;
    std::string body;  // the JSON document sent, rendered once
    std::string status;
    int attempts = 0;
    std::string created_at;
    std::optional<std::string> last_error;
    std::optional<int> last_http_status;
    double age_seconds = 0;
};

/// Adds a message inside the caller's transaction (the one that gives the payment its status)
/// and wakes the dispatchers (NOTIFY billpay_outbox, delivered at commit). A payment has at
/// most one message of each type: adding it again does nothing.
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

/// Records an attempt's outcome: delivered; retry after `retry_after`; or dead (kept, visible).
void record_attempt(pqxx::connection& conn, const std::string& message_id, delivery_outcome outcome,
                    std::optional<int> http_status, const std::string& error,
                    std::chrono::milliseconds retry_after, const std::string& actor);

/// Messages by status ("pending", "failed" = pending after a failed attempt, "dead",
/// "delivered"; empty: every undelivered one), oldest first.
std::vector<outbox_message> list_messages(pqxx::connection& conn, const std::string& status,
                                          int limit);

/// Puts a dead or delivered message back in the queue, recorded in the attempts log and the
/// audit trail (`audit`), in one transaction. False when there is no such message.
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
    boost::asio::awaitable<result<void>> record_attempt(
        const std::string& message_id, delivery_outcome outcome, std::optional<int> http_status,
        const std::string& error, std::chrono::milliseconds retry_after, const std::string& actor);
    boost::asio::awaitable<result<std::vector<outbox_message>>> list(const std::string& status,
                                                                     int limit);
    /// error::not_found when there is no such message.
    boost::asio::awaitable<result<void>> replay(const std::string& message_id,
                                                const std::string& actor, const audit_entry& audit);
    boost::asio::awaitable<result<outbox_stats>> statistics();

  private:
    database& db_;
};

/// Calls `wake` on every NOTIFY billpay_outbox (a message was added somewhere), from a thread
/// of its own with a connection of its own; reconnects by itself after an outage. The
/// dispatcher also polls, so a missed notification only delays a delivery.
class outbox_listener {
  public:
    outbox_listener(std::string dsn, std::function<void()> wake);
    ~outbox_listener();  // stops and joins within about a second
    outbox_listener(const outbox_listener&) = delete;
    outbox_listener& operator=(const outbox_listener&) = delete;

    void stop() noexcept { stopping_ = true; }

  private:
    void run();

    std::string dsn_;
    std::function<void()> wake_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

}  // namespace billpay::store
