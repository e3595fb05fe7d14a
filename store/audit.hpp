#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <pqxx/connection>
#include <pqxx/transaction_base>
#include <string>
#include <vector>

#include "store/errors.hpp"

namespace billpay::store {

class database;

/// One action of finance staff or an operator, as the audit trail keeps it.
struct audit_entry {
    std::string actor;    // an API client id, or "billpayctl:<user>"
    std::string source;   // where from: the client's IP address, or "host:<name>" for billpayctl
    std::string action;   // refund.requested, refund.succeeded, settlements.imported, …
    std::string records;  // the ids acted on, comma-separated
    std::string reason;   // as given ("" when none was asked for)
    std::string details = "{}";  // a JSON object: amounts, counts, filters
};

/// A row as stored: the entry, its place and time, and its hash chained to the previous row's.
struct audit_row {
    std::int64_t id = 0;
    std::string at;  // RFC 3339, UTC, microseconds
    audit_entry entry;
    std::string prev_hash;
    std::string hash;
};

/// The hash of a row: hex SHA-256 over the previous row's hash and every field, each
/// length-prefixed so that no two rows serialize alike. The first row's prev_hash is 64 zeros.
std::string audit_hash(const std::string& prev_hash, std::int64_t id, const std::string& at,
                       const audit_entry& entry);

/// Appends an entry inside the caller's transaction (it is recorded if and only if the action
/// commits). Appends are serialized by a transaction-scoped advisory lock, so the chain is one
/// line however many processes write.
audit_row append_audit(pqxx::transaction_base& tx, const audit_entry& entry);

/// The same in a transaction of its own.
audit_row append_audit(pqxx::connection& conn, const audit_entry& entry);

/// The first row whose stored hash or link does not match what its fields give, or whose id
/// skips one (a deleted row); nullopt when the whole chain holds.
struct audit_break {
    std::int64_t row_id = 0;
    std::string problem;
};
struct audit_check {
    std::int64_t rows = 0;
    std::string last_hash;
    std::optional<audit_break> broken;
};
audit_check verify_audit(pqxx::connection& conn);

/// Rows, newest first, optionally only those naming `record`.
std::vector<audit_row> list_audit(pqxx::connection& conn, const std::string& record, int limit);

/// A day's last row of the chain, signed with a key that lives outside the database
/// (config::audit_settings::checkpoint_key): rows cut from the end of the log before it, or the
/// log rebuilt from a shorter copy, no longer match it. Days are UTC days.
struct audit_checkpoint {
    std::string day;           // YYYY-MM-DD
    std::int64_t last_id = 0;  // 0 when the log had no row by the day's end
    std::string last_hash;
    std::int64_t rows_through = 0;  // rows with id <= last_id
    std::string signature;          // hex HMAC-SHA256 of checkpoint_message
};

/// What a checkpoint's signature covers.
std::string checkpoint_message(const audit_checkpoint& c);

/// Unsigned checkpoints for every whole day after the newest checkpoint (or from the log's
/// first day) through yesterday, empty days included: a missing day is then a gap to explain.
std::vector<audit_checkpoint> days_to_checkpoint(pqxx::connection& conn);
void add_checkpoints(pqxx::connection& conn, const std::vector<audit_checkpoint>& checkpoints);
std::vector<audit_checkpoint> list_checkpoints(pqxx::connection& conn);

/// What the log holds at a checkpoint's row: its hash ("" when the row is gone) and how many
/// rows there are up to it.
struct checkpoint_state {
    std::string hash;
    std::int64_t rows_through = 0;
};
checkpoint_state state_at(pqxx::connection& conn, std::int64_t last_id);

/// The audit trail for the folders above the store (staff reads, finance's and privacy's records).
class audit_log {
  public:
    virtual ~audit_log() = default;

    /// Appends in a transaction of its own. A caller that cannot append refuses what it was
    /// about to show or do: nothing unaudited.
    virtual boost::asio::awaitable<result<void>> append(const audit_entry& entry) = 0;
    virtual boost::asio::awaitable<result<audit_check>> verify() = 0;
    virtual boost::asio::awaitable<result<std::vector<audit_row>>> list(const std::string& record,
                                                                        int limit) = 0;
    virtual boost::asio::awaitable<result<std::vector<audit_checkpoint>>> days_to_checkpoint() = 0;
    virtual boost::asio::awaitable<result<void>> add_checkpoints(
        std::vector<audit_checkpoint> signed_days) = 0;
    virtual boost::asio::awaitable<result<std::vector<audit_checkpoint>>> checkpoints() = 0;
    virtual boost::asio::awaitable<result<checkpoint_state>> state_at(std::int64_t last_id) = 0;
};

/// audit_log on PostgreSQL.
class audit_trail final : public audit_log {
  public:
    explicit audit_trail(database& db) : db_(db) {}

    boost::asio::awaitable<result<void>> append(const audit_entry& entry) override;
    boost::asio::awaitable<result<audit_check>> verify() override;
    boost::asio::awaitable<result<std::vector<audit_row>>> list(const std::string& record,
                                                                int limit) override;
    boost::asio::awaitable<result<std::vector<audit_checkpoint>>> days_to_checkpoint() override;
    boost::asio::awaitable<result<void>> add_checkpoints(
        std::vector<audit_checkpoint> signed_days) override;
    boost::asio::awaitable<result<std::vector<audit_checkpoint>>> checkpoints() override;
    boost::asio::awaitable<result<checkpoint_state>> state_at(std::int64_t last_id) override;

  private:
    database& db_;
};

}  // namespace billpay::store
