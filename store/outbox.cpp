#include "store/outbox.hpp"

#include <pqxx/pqxx>

#include "logging/log.hpp"
#include "store/database.hpp"

namespace billpay::store {
namespace {

constexpr const char* message_columns =
    "id, type, payment_id, body, status, attempts,"
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
    tx.exec("NOTIFY billpay_outbox");
}

void enqueue_refund_message(pqxx::transaction_base& tx, const std::string& id,
                            const std::string& payment_id, const std::string& refund_id,
                            const std::string& body) {
    tx.exec_params(
        "INSERT INTO outbox_messages (id, type, payment_id, refund_id, body)"
        " VALUES ($1, 'refund_receipt', $2, $3, $4)"
        " ON CONFLICT (refund_id) WHERE refund_id IS NOT NULL DO NOTHING",
        id, payment_id, refund_id, body);
    tx.exec("NOTIFY billpay_outbox");
}

std::vector<outbox_message> claim_due_messages(pqxx::connection& conn, int batch,
                                               std::chrono::milliseconds lease) {
    pqxx::work tx(conn);
    auto rows = tx.exec_params(
        std::string("UPDATE outbox_messages SET attempts = attempts + 1,"
                    "  locked_until = now() + make_interval(secs => $2::float8 / 1000)"
                    " WHERE id IN (SELECT id FROM outbox_messages WHERE status = 'pending'"
                    "   AND next_attempt_at <= now()"
                    "   AND coalesce(locked_until, '-infinity') < now()"
                    "   ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)"
                    " RETURNING ") +
            message_columns,
        batch, lease.count());
    tx.commit();
    std::vector<outbox_message> out;
    for (const auto& row : rows) {
        out.push_back(read_message(row));
    }
    return out;
}

void record_attempt(pqxx::connection& conn, const std::string& message_id, delivery_outcome outcome,
                    std::optional<int> http_status, const std::string& error,
                    std::chrono::milliseconds retry_after, const std::string& actor) {
    pqxx::work tx(conn);
    const char* name = outcome == delivery_outcome::delivered ? "delivered"
                       : outcome == delivery_outcome::dead    ? "dead"
                                                              : "retry";
    switch (outcome) {
        case delivery_outcome::delivered:
            tx.exec_params(
                "UPDATE outbox_messages SET status = 'delivered', delivered_at = now(),"
                "  locked_until = NULL, last_error = NULL, last_http_status = $2 WHERE id = $1",
                message_id, http_status);
            break;
        case delivery_outcome::dead:
            tx.exec_params(
                "UPDATE outbox_messages SET status = 'dead', dead_at = now(), locked_until = NULL,"
                "  last_error = $2, last_http_status = $3 WHERE id = $1",
                message_id, error, http_status);
            break;
        case delivery_outcome::retry:
            tx.exec_params(
                "UPDATE outbox_messages SET locked_until = NULL, last_error = $2,"
                "  last_http_status = $3,"
                "  next_attempt_at = now() + make_interval(secs => $4::float8 / 1000)"
                " WHERE id = $1",
                message_id, error, http_status, retry_after.count());
            break;
    }
    tx.exec_params(
        "INSERT INTO outbox_attempts (message_id, outcome, http_status, error, actor)"
        " VALUES ($1, $2, $3, nullif($4, ''), $5)",
        message_id, std::string(name), http_status, error, actor);
    tx.commit();
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
        "  locked_until = NULL, dead_at = NULL WHERE id = $1",
        message_id);
    if (r.affected_rows() != 1) {
        return false;
    }
    tx.exec_params(
        "INSERT INTO outbox_attempts (message_id, outcome, actor) VALUES ($1, 'replayed', $2)",
        message_id, actor);
    append_audit(tx, audit);
    tx.exec("NOTIFY billpay_outbox");
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

boost::asio::awaitable<result<void>> outbox::record_attempt(
    const std::string& message_id, delivery_outcome outcome, std::optional<int> http_status,
    const std::string& error, std::chrono::milliseconds retry_after, const std::string& actor) {
    co_return co_await db_.call([&](pqxx::connection& conn) {
        store::record_attempt(conn, message_id, outcome, http_status, error, retry_after, actor);
    });
}

boost::asio::awaitable<result<std::vector<outbox_message>>> outbox::list(const std::string& status,
                                                                         int limit) {
    co_return co_await db_.call(
        [&status, limit](pqxx::connection& conn) { return list_messages(conn, status, limit); });
}

boost::asio::awaitable<result<void>> outbox::replay(const std::string& message_id,
                                                    const std::string& actor,
                                                    const audit_entry& audit) {
    co_return co_await db_.call([&](pqxx::connection& conn) -> result<void> {
        if (!replay_message(conn, message_id, actor, audit)) {
            return error::not_found;
        }
        return {};
    });
}

boost::asio::awaitable<result<outbox_stats>> outbox::statistics() {
    co_return co_await db_.call([](pqxx::connection& conn) { return outbox_statistics(conn); });
}

namespace {

/// Calls `wake` for every NOTIFY billpay_outbox.
class outbox_receiver final : public pqxx::notification_receiver {
  public:
    outbox_receiver(pqxx::connection_base& conn, const std::function<void()>& wake)
        : pqxx::notification_receiver(conn, "billpay_outbox"), wake_(wake) {}
    void operator()(const std::string&, int) override { wake_(); }

  private:
    const std::function<void()>& wake_;
};

}  // namespace

outbox_listener::outbox_listener(std::string dsn, std::function<void()> wake)
    : dsn_(std::move(dsn)), wake_(std::move(wake)), thread_([this] { run(); }) {}

outbox_listener::~outbox_listener() {
    stop();
    if (thread_.joinable()) {
        thread_.join();  // within a second: the loop looks at stopping_ that often
    }
}

void outbox_listener::run() {
    while (!stopping_) {
        try {
            pqxx::connection conn(dsn_);
            outbox_receiver receiver(conn, wake_);
            while (!stopping_) {
                conn.await_notification(1, 0);  // wakes at least once a second to see stopping_
            }
        } catch (const std::exception& e) {
            logging::warn("outbox listener lost its connection; polling until it is back",
                          {{"error", e.what()}});
            for (int i = 0; i < 10 && !stopping_; ++i) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
        }
    }
}

}  // namespace billpay::store
