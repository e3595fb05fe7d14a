#include "store/migrations.hpp"

#include <pqxx/pqxx>

#include "logging/log.hpp"
#include "model/digest.hpp"
#include "store/database.hpp"

namespace billpay::store {
namespace {

// An arbitrary constant that names "billpayd schema migration" among advisory locks.
constexpr long long migration_lock_id = 0x62696c6c706179;

void ensure_table(pqxx::connection& conn) {
    pqxx::work tx(conn);
    tx.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY,"
        " name text NOT NULL,"
        " sha256 text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
    tx.commit();
}

}  // namespace

int required_schema_version() {
    auto all = built_in_migrations();
    return all.empty() ? 0 : all.back().version;
}

int current_schema_version(pqxx::connection& conn) {
    pqxx::read_transaction tx(conn);
    auto exists = tx.exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
    if (!exists[0][0].as<bool>()) {
        return 0;
    }
    auto row = tx.exec("SELECT coalesce(max(version), 0) FROM schema_migrations");
    return row[0][0].as<int>();
}

migration_report migrate(pqxx::connection& conn, std::span<const migration> migrations) {
    for (std::size_t i = 1; i < migrations.size(); ++i) {
        if (migrations[i].version <= migrations[i - 1].version) {
            throw migration_error("migrations are not in increasing version order");
        }
    }
    // A session-level lock: held across the per-migration transactions below, released at the
    // end whatever happens. libpqxx allows one transaction object at a time, so the lock is taken
    // and released in short nontransactions of their own.
    const std::string lock_sql =
        "SELECT pg_advisory_lock(" + std::to_string(migration_lock_id) + ")";
    {
        pqxx::nontransaction tx(conn);
        tx.exec(lock_sql);
    }
    struct unlock_guard {
        pqxx::connection& conn;
        ~unlock_guard() {
            try {
                pqxx::nontransaction tx(conn);
                tx.exec("SELECT pg_advisory_unlock(" + std::to_string(migration_lock_id) + ")");
            } catch (...) {
                // The connection is gone, and with it the session lock.
            }
        }
    } unlock{conn};

    ensure_table(conn);

    migration_report report;
    {
        pqxx::read_transaction tx(conn);
        auto rows = tx.exec("SELECT version, sha256 FROM schema_migrations ORDER BY version");
        for (const auto& row : rows) {
            int version = row[0].as<int>();
            auto recorded = row[1].as<std::string>();
            report.from_version = std::max(report.from_version, version);
            for (const auto& m : migrations) {
                if (m.version == version && model::sha256_hex(m.sql) != recorded) {
                    throw migration_error("migration " + std::to_string(version) + " (" +
                                          std::string(m.name) +
                                          ") differs from the one applied to this database");
                }
            }
        }
    }
    report.to_version = report.from_version;

    for (const auto& m : migrations) {
        if (m.version <= report.from_version) {
            continue;
        }
        pqxx::work tx(conn);
        tx.exec(std::string(m.sql));
        tx.exec_params("INSERT INTO schema_migrations (version, name, sha256) VALUES ($1, $2, $3)",
                       m.version, std::string(m.name), model::sha256_hex(m.sql));
        tx.commit();
        report.applied.push_back(m.version);
        report.to_version = m.version;
    }
    return report;
}

boost::asio::awaitable<result<int>> schema::current_version() {
    co_return co_await db_.call(
        [](pqxx::connection& conn) { return current_schema_version(conn); });
}

boost::asio::awaitable<result<migration_report>> schema::migrate() {
    co_return co_await db_.call([](pqxx::connection& conn) -> result<migration_report> {
        try {
            return store::migrate(conn);
        } catch (const migration_error& e) {
            logging::error("the database does not match this build's migrations",
                           {{"error", e.what()}});
            return error::conflict;
        }
    });
}

}  // namespace billpay::store
