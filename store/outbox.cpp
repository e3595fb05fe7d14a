#include "store/outbox.hpp"

#include <pqxx/pqxx>

#include "logging/log.hpp"
#include "store/database.hpp"
#include "store/statements.hpp"

namespace billpay::store {
namespace {

constexpr const char* message_columns =
    "id, type, coalesce(payment_id, ''), coalesce(body, ''), status, attempts,"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " last_error, last_http_status, extract(epoch FROM now() - created_at)::float8";

outbox_message read_message(const pqxx::row& row) {
    outbox_message m;
    m.id = row[0].as<std::string>();
    m.type = row[1].as<std::string>();
    m.payment_id = row[2].as<std::string>();
    m.body = row[3].as<std::string>();
    m.status = row[4].as<std::string>();
    m.attempts = row[5].as<int>();
    m.created_at = row[6].as<std::string>();
    if (!row[7].is_null()) {
        m.last_error = row[7].as<std::string>();
    }
    if (!row[8].is_null()) {
        m.last_http_status = row[8].as<int>();
    }
    m.age_seconds = row[9].as<double>();
    return m;
}

}  // namespace

void enqueue_message(pqxx::transaction_base& tx, const std::string& id, const std::string& type,
                     const std::string& payment_id, const std::string& body) {
    tx.exec_params(
        "INSERT INTO outbox_messages (id, type, payment_id, body) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (payment_id, type) WHERE refund_id IS NULL DO NOTHING",
        id, type, payment_id, body);
}

void enqueue_refund_message(pqxx::transaction_base& tx, const std::string& id,
                            const std::string& payment_id, const std::string& refund_id,
                            const std::string& body) {
    tx.exec_params(
        "INSERT INTO outbox_messages (id, type, payment_id, refund_id, body)"
        " VALUES ($1, 'refund_receipt', $2, $3, $4)"
        " ON CONFLICT (refund_id) WHERE refund_id IS NOT NULL DO NOTHING",
        id, payment_id, refund_id, body);
}

std::vector<outbox_message> claim_due_messages(pqxx::connection& conn, int batch,
                                               std::chrono::milliseconds lease) {
    pqxx::nontransaction tx(conn);  // one statement: one round trip, one commit
    auto rows = tx.exec_prepared(statements::prepared(conn, statements::claim_messages), batch,
                                 static_cast<std::int64_t>(lease.count()));
    std::vector<outbox_message> out;
    out.reserve(rows.size());
    for (const auto& row : rows) {
        out.push_back(read_message(row));
    }
    return out;
}

std::string_view to_string(delivery_outcome outcome) noexcept {
    switch (outcome) {
        case delivery_outcome::delivered:
            return "delivered";
        case delivery_outcome::dead:
            return "dead";
        case delivery_outcome::retry:
            return "retry";
    }
    return "retry";
}

void record_attempts(pqxx::connection& conn, const std::vector<delivery_attempt>& attempts,
                     const std::string& actor) {
    if (attempts.empty()) {
        return;
    }
    std::vector<std::string> ids;
    std::vector<std::string> outcomes;
    std::vector<long long> http_statuses;
    std::vector<std::string> errors;
    std::vector<long long> retry_ms;
    for (const auto& a : attempts) {
        ids.push_back(a.message_id);
        outcomes.emplace_back(to_string(a.outcome));
        http_statuses.push_back(a.http_status.value_or(-1));
        errors.push_back(a.error);
        retry_ms.push_back(a.retry_after.count());
    }
    pqxx::nontransaction tx(conn);  // one statement for the whole batch
    tx.exec_prepared(statements::prepared(conn, statements::record_attempts),
                     statements::text_array(ids), statements::text_array(outcomes),
                     statements::integer_array(http_statuses, true), statements::text_array(errors),
                     statements::integer_array(retry_ms), actor);
}

std::vector<outbox_message> list_messages(pqxx::connection& conn, const std::string& status,
                                          int limit) {
    pqxx::read_transaction tx(conn);
    std::string sql = std::string("SELECT ") + message_columns + " FROM outbox_messages WHERE ";
    pqxx::result rows;
    if (status.empty() || status == "failed") {
        sql += status.empty() ? "status <> 'delivered'"
                              : "status = 'pending' AND last_error IS NOT NULL";
        rows = tx.exec_params(sql + " ORDER BY created_at LIMIT $1", limit);
    } else {
        rows = tx.exec_params(sql + "status = $2 ORDER BY created_at LIMIT $1", limit, status);
    }
    std::vector<outbox_message> out;
    for (const auto& row : rows) {
        out.push_back(read_message(row));
    }
    return out;
}

bool replay_message(pqxx::connection& conn, const std::string& message_id, const std::string& actor,
                    const audit_entry& audit) {
    pqxx::work tx(conn);
    auto r = tx.exec_params(
        "UPDATE outbox_messages SET status = 'pending', next_attempt_at = now(),"
        "  locked_until = NULL, dead_at = NULL WHERE id = $1 AND body IS NOT NULL",
        message_id);
    if (r.affected_rows() != 1) {
        if (!tx.exec_params("SELECT 1 FROM outbox_messages WHERE id = $1", message_id).empty()) {
            throw failure(error::conflict);  // its body was purged under retention
        }
        return false;
    }
    tx.exec_params(
        "INSERT INTO outbox_attempts (message_id, outcome, actor) VALUES ($1, 'replayed', $2)",
        message_id, actor);
    append_audit(tx, audit);
    tx.commit();
    return true;
}

outbox_stats outbox_statistics(pqxx::connection& conn) {
    pqxx::read_transaction tx(conn);
    auto row = tx.exec(
        "SELECT count(*) FILTER (WHERE status = 'pending'),"
        "       count(*) FILTER (WHERE status = 'dead'),"
        "       coalesce(extract(epoch FROM now() - min(created_at) FILTER"
        "                (WHERE status = 'pending')), 0)::float8"
        "  FROM outbox_messages WHERE status <> 'delivered'")[0];
    return {row[0].as<std::int64_t>(), row[1].as<std::int64_t>(), row[2].as<double>()};
}

boost::asio::awaitable<result<std::vector<outbox_message>>> outbox::claim_due(
    int batch, std::chrono::milliseconds lease) {
    co_return co_await db_.call(
        [batch, lease](pqxx::connection& conn) { return claim_due_messages(conn, batch, lease); });
}

boost::asio::awaitable<result<void>> outbox::record(std::vector<delivery_attempt> attempts,
                                                    const std::string& actor) {
    co_return co_await db_.call(
        [&](pqxx::connection& conn) { store::record_attempts(conn, attempts, actor); });
}

boost::asio::awaitable<result<std::vector<outbox_message>>> outbox::list(const std::string& status,
                                                                         int limit) {
    co_return co_await db_.call(
        [&status, limit](pqxx::connection& conn) { return list_messages(conn, status, limit); });
}

boost::asio::awaitable<result<void>> outbox::replay(const std::string& message_id,
                                                    const std::string& actor,
                                                    const audit_entry& audit) {
    auto replayed = co_await db_.call([&](pqxx::connection& conn) -> result<void> {
        if (!replay_message(conn, message_id, actor, audit)) {
            return error::not_found;
        }
        return {};
    });
    if (replayed) {
        db_.messages_added().raise();
    }
    co_return replayed;
}

outbox_signal& outbox::messages_added() noexcept { return db_.messages_added(); }

boost::asio::awaitable<result<outbox_stats>> outbox::statistics() {
    co_return co_await db_.call([](pqxx::connection& conn) { return outbox_statistics(conn); });
}

}  // namespace billpay::store
