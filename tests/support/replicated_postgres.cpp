#include "tests/support/replicated_postgres.hpp"

#include <pqxx/pqxx>
#include <stdexcept>
#include <thread>

namespace billpay::test {

replicated_postgres::replicated_postgres(const std::string& dbname)
    : dbname_(dbname), script_((source_dir() / "scripts" / "pg-cluster").string()) {
    try {
        build();
    } catch (...) {
        stop_both();  // the destructor does not run for a constructor that throws
        throw;
    }
}

void replicated_postgres::build() {
    // Not --fast: a synchronous standby is the point, and --fast turns synchronous_commit off.
    run("init " + primary_.path().string());
    run("start " + primary_.path().string());
    run("standby " + standby_.path().string() + " " + primary_.path().string() + " standby");
    {
        pqxx::connection conn(primary_dsn() + " dbname=postgres");
        pqxx::nontransaction tx(conn);
        tx.exec("ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (standby)'");
        tx.exec("SELECT pg_reload_conf()");
        tx.exec("CREATE DATABASE " + tx.quote_name(dbname_));
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
        pqxx::connection conn(primary_dsn());
        pqxx::read_transaction tx(conn);
        auto r = tx.exec(
            "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'standby'"
            " AND sync_state = 'sync' AND state = 'streaming'");
        if (r[0][0].as<int>() == 1) {
            break;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            throw std::runtime_error("the standby did not become synchronous");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

replicated_postgres::~replicated_postgres() { stop_both(); }

void replicated_postgres::stop_both() noexcept {
    // Best effort, each on its own: the folders go with their temp_dir either way.
    for (const auto* cluster : {&standby_, &primary_}) {
        try {
            run("stop " + cluster->path().string());
        } catch (...) {
        }
    }
}

void replicated_postgres::run(const std::string& arguments) const {
    if (run_command(script_ + " " + arguments) != 0) {
        throw std::runtime_error("pg-cluster " + arguments + " failed");
    }
}

std::string replicated_postgres::dsn() const {
    return "host=" + (primary_.path() / "s").string() + "," + (standby_.path() / "s").string() +
           " port=5432,5432 user=billpay dbname=" + dbname_ + " target_session_attrs=read-write";
}

std::string replicated_postgres::primary_dsn() const {
    return "host=" + (primary_.path() / "s").string() + " port=5432 user=billpay dbname=" + dbname_;
}

std::string replicated_postgres::standby_dsn() const {
    return "host=" + (standby_.path() / "s").string() + " port=5432 user=billpay dbname=" + dbname_;
}

void replicated_postgres::crash_primary() {
    run("stop " + primary_.path().string() + " --immediate");
}

void replicated_postgres::stop_primary() { run("stop " + primary_.path().string()); }

void replicated_postgres::promote_standby() { run("promote " + standby_.path().string()); }

}  // namespace billpay::test
