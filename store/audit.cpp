#include "store/audit.hpp"

#include <pqxx/pqxx>

#include "model/digest.hpp"
#include "store/database.hpp"

namespace billpay::store {
namespace {

const std::string genesis(64, '0');

// A key for pg_advisory_xact_lock that serializes appends to the chain ("audit" in ASCII).
constexpr std::int64_t chain_lock = 0x6175646974;

constexpr const char* row_columns =
    "id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), actor, source,"
    " action, records, reason, details, prev_hash, hash";

audit_row read_row(const pqxx::row& r) {
    audit_row row;
    row.id = r[0].as<std::int64_t>();
    row.at = r[1].as<std::string>();
    row.entry = audit_entry{r[2].as<std::string>(), r[3].as<std::string>(), r[4].as<std::string>(),
                            r[5].as<std::string>(), r[6].as<std::string>(), r[7].as<std::string>()};
    row.prev_hash = r[8].as<std::string>();
    row.hash = r[9].as<std::string>();
    return row;
}

}  // namespace

std::string audit_hash(const std::string& prev_hash, std::int64_t id, const std::string& at,
                       const audit_entry& e) {
    std::string input;
    for (const std::string& part : {prev_hash, std::to_string(id), at, e.actor, e.source, e.action,
                                    e.records, e.reason, e.details}) {
        input += std::to_string(part.size());
        input += ':';
        input += part;
        input += '\n';
    }
    return model::sha256_hex(input);
}

audit_row append_audit(pqxx::transaction_base& tx, const audit_entry& entry) {
    tx.exec_params("SELECT pg_advisory_xact_lock($1)", chain_lock);
    auto last = tx.exec("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1");
    audit_row row;
    row.entry = entry;
    row.prev_hash = last.empty() ? genesis : last[0][0].as<std::string>();
    auto next = tx.exec(
        "SELECT nextval(pg_get_serial_sequence('audit_log', 'id')),"
        " to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
    row.id = next[0][0].as<std::int64_t>();
    row.at = next[0][1].as<std::string>();
    row.hash = audit_hash(row.prev_hash, row.id, row.at, entry);
    tx.exec_params(
        "INSERT INTO audit_log (id, at, actor, source, action, records, reason, details,"
        " prev_hash, hash) VALUES ($1, $2::timestamptz, $3, $4, $5, $6, $7, $8, $9, $10)",
        row.id, row.at, entry.actor, entry.source, entry.action, entry.records, entry.reason,
        entry.details, row.prev_hash, row.hash);
    return row;
}

audit_row append_audit(pqxx::connection& conn, const audit_entry& entry) {
    pqxx::work tx(conn);
    auto row = append_audit(tx, entry);
    tx.commit();
    return row;
}

audit_check verify_audit(pqxx::connection& conn) {
    audit_check check;
    check.last_hash = genesis;
    pqxx::read_transaction tx(conn);
    std::int64_t previous_id = 0;
    // Read in id order a page at a time: the log may be long.
    for (;;) {
        auto rows = tx.exec_params(std::string("SELECT ") + row_columns +
                                       " FROM audit_log WHERE id > $1 ORDER BY id LIMIT 5000",
                                   previous_id);
        if (rows.empty()) {
            break;
        }
        for (const auto& r : rows) {
            auto row = read_row(r);
            ++check.rows;
            if (row.prev_hash != check.last_hash) {
                check.broken =
                    audit_break{row.id, previous_id == 0 || row.id != previous_id + 1
                                            ? "a row before it is missing (its link does not match)"
                                            : "its link to the row before does not match"};
                return check;
            }
            if (audit_hash(row.prev_hash, row.id, row.at, row.entry) != row.hash) {
                check.broken = audit_break{row.id, "its fields do not match its hash (edited)"};
                return check;
            }
            check.last_hash = row.hash;
            previous_id = row.id;
        }
    }
    return check;
}

std::vector<audit_row> list_audit(pqxx::connection& conn, const std::string& record, int limit) {
    pqxx::read_transaction tx(conn);
    auto rows = record.empty()
                    ? tx.exec_params(std::string("SELECT ") + row_columns +
                                         " FROM audit_log ORDER BY id DESC LIMIT $1",
                                     limit)
                    : tx.exec_params(std::string("SELECT ") + row_columns +
                                         " FROM audit_log WHERE ',' || records || ',' LIKE"
                                         " '%,' || $1 || ',%' ORDER BY id DESC LIMIT $2",
                                     record, limit);
    std::vector<audit_row> out;
    for (const auto& r : rows) {
        out.push_back(read_row(r));
    }
    return out;
}

std::string checkpoint_message(const audit_checkpoint& c) {
    return "billpay-audit-checkpoint-v1\n" + c.day + "\n" + std::to_string(c.last_id) + "\n" +
           c.last_hash + "\n" + std::to_string(c.rows_through) + "\n";
}

std::vector<audit_checkpoint> days_to_checkpoint(pqxx::connection& conn) {
    pqxx::read_transaction tx(conn);
    auto rows = tx.exec(
        "WITH bounds AS ("
        "  SELECT coalesce((SELECT max(day) + 1 FROM audit_checkpoints),"
        "                  (SELECT min((at AT TIME ZONE 'UTC')::date) FROM audit_log)) AS first,"
        "         (now() AT TIME ZONE 'UTC')::date - 1 AS last),"
        " days AS (SELECT d::date AS day FROM bounds,"
        "          generate_series(bounds.first, bounds.last, interval '1 day') AS d"
        "          WHERE bounds.first IS NOT NULL),"
        " ends AS (SELECT day, (SELECT max(id) FROM audit_log"
        "                       WHERE at < (day + 1)::timestamp AT TIME ZONE 'UTC') AS last_id"
        "          FROM days)"
        " SELECT to_char(day, 'YYYY-MM-DD'), coalesce(last_id, 0),"
        "        coalesce((SELECT hash FROM audit_log WHERE id = last_id), '" +
        genesis +
        "'),"
        "        (SELECT count(*) FROM audit_log WHERE id <= coalesce(last_id, 0))"
        " FROM ends ORDER BY day");
    std::vector<audit_checkpoint> out;
    for (const auto& r : rows) {
        out.push_back({r[0].as<std::string>(), r[1].as<std::int64_t>(), r[2].as<std::string>(),
                       r[3].as<std::int64_t>(), ""});
    }
    return out;
}

void add_checkpoints(pqxx::connection& conn, const std::vector<audit_checkpoint>& checkpoints) {
    pqxx::work tx(conn);
    for (const auto& c : checkpoints) {
        tx.exec_params(
            "INSERT INTO audit_checkpoints (day, last_id, last_hash, rows_through, signature)"
            " VALUES ($1::date, $2, $3, $4, $5) ON CONFLICT (day) DO NOTHING",
            c.day, c.last_id, c.last_hash, c.rows_through, c.signature);
    }
    tx.commit();
}

std::vector<audit_checkpoint> list_checkpoints(pqxx::connection& conn) {
    pqxx::read_transaction tx(conn);
    std::vector<audit_checkpoint> out;
    for (const auto& r :
         tx.exec("SELECT to_char(day, 'YYYY-MM-DD'), last_id, last_hash, rows_through, signature"
                 " FROM audit_checkpoints ORDER BY day")) {
        out.push_back({r[0].as<std::string>(), r[1].as<std::int64_t>(), r[2].as<std::string>(),
                       r[3].as<std::int64_t>(), r[4].as<std::string>()});
    }
    return out;
}

checkpoint_state state_at(pqxx::connection& conn, std::int64_t last_id) {
    pqxx::read_transaction tx(conn);
    auto r = tx.exec_params(
        "SELECT coalesce((SELECT hash FROM audit_log WHERE id = $1), ''),"
        " (SELECT count(*) FROM audit_log WHERE id <= $1)",
        last_id)[0];
    checkpoint_state state{r[0].as<std::string>(), r[1].as<std::int64_t>()};
    if (last_id == 0) {
        state.hash = genesis;
    }
    return state;
}

boost::asio::awaitable<result<std::vector<audit_checkpoint>>> audit_trail::days_to_checkpoint() {
    co_return co_await db_.call(
        [](pqxx::connection& conn) { return store::days_to_checkpoint(conn); });
}

boost::asio::awaitable<result<void>> audit_trail::add_checkpoints(
    std::vector<audit_checkpoint> signed_days) {
    co_return co_await db_.call(
        [&signed_days](pqxx::connection& conn) { store::add_checkpoints(conn, signed_days); });
}

boost::asio::awaitable<result<std::vector<audit_checkpoint>>> audit_trail::checkpoints() {
    co_return co_await db_.call([](pqxx::connection& conn) { return list_checkpoints(conn); });
}

boost::asio::awaitable<result<checkpoint_state>> audit_trail::state_at(std::int64_t last_id) {
    co_return co_await db_.call(
        [last_id](pqxx::connection& conn) { return store::state_at(conn, last_id); });
}

boost::asio::awaitable<result<void>> audit_trail::append(const audit_entry& entry) {
    co_return co_await db_.call([&entry](pqxx::connection& conn) { append_audit(conn, entry); });
}

boost::asio::awaitable<result<audit_check>> audit_trail::verify() {
    co_return co_await db_.call([](pqxx::connection& conn) { return verify_audit(conn); });
}

boost::asio::awaitable<result<std::vector<audit_row>>> audit_trail::list(const std::string& record,
                                                                         int limit) {
    co_return co_await db_.call(
        [&record, limit](pqxx::connection& conn) { return list_audit(conn, record, limit); });
}

}  // namespace billpay::store
