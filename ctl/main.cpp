// billpayctl: the operators' and finance staff's command line. See docs/operations.md.
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <pqxx/pqxx>
#include <string>

#include "config/load.hpp"
#include "logging/log.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"
#include "store/outbox.hpp"

namespace {

using namespace billpay;

config::settings load_or_exit(const std::string& file) {
    try {
        return config::load(file);
    } catch (const config::invalid_config& e) {
        for (const auto& p : e.problems()) {
            std::cerr << p.to_string() << '\n';
        }
        std::exit(1);
    }
}

int run_migrate(const std::string& config_file) {
    auto settings = load_or_exit(config_file);
    // Migrations may rewrite large tables: no statement timeout for them.
    store::database db(store::database_options{std::string(settings.database.dsn.reveal()), 1,
                                               settings.database.connect_timeout,
                                               std::chrono::hours(24)});
    try {
        auto report = db.run_blocking([](pqxx::connection& conn) { return store::migrate(conn); });
        if (report.applied.empty()) {
            std::cout << "schema is current at version " << report.to_version << '\n';
        } else {
            std::cout << "migrated schema from version " << report.from_version << " to "
                      << report.to_version << " (" << report.applied.size() << " applied)\n";
        }
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "billpayctl migrate: " << e.what() << '\n';
        return 1;
    }
}

/// The operator's name for the attempts log: $SUDO_USER or $USER, as "billpayctl:<name>".
std::string operator_name() {
    for (const char* var : {"SUDO_USER", "USER", "LOGNAME"}) {
        if (const char* v = std::getenv(var); v && *v) {
            return std::string("billpayctl:") + v;
        }
    }
    return "billpayctl";
}

store::database open_store(const config::settings& settings) {
    return store::database(store::database_options{std::string(settings.database.dsn.reveal()), 1,
                                                   settings.database.connect_timeout,
                                                   settings.database.statement_timeout});
}

int run_receipts_list(const std::string& config_file, const std::string& status, int limit) {
    auto settings = load_or_exit(config_file);
    auto db = open_store(settings);
    try {
        auto [messages, stats] = db.run_blocking([&](pqxx::connection& conn) {
            return std::pair{store::list_messages(conn, status, limit),
                             store::outbox_statistics(conn)};
        });
        std::printf("%-32s %-17s %-10s %8s %10s  %-24s %s\n", "ID", "TYPE", "STATUS", "ATTEMPTS",
                    "AGE", "PAYMENT", "LAST ERROR");
        for (const auto& m : messages) {
            std::string shown_status = m.status == "pending" && m.last_error ? "failed" : m.status;
            std::printf("%-32s %-17s %-10s %8d %9.0fs  %-24s %s\n", m.id.c_str(), m.type.c_str(),
                        shown_status.c_str(), m.attempts, m.age_seconds, m.payment_id.c_str(),
                        m.last_error.value_or("").c_str());
        }
        std::printf("\nbacklog: %lld undelivered, oldest %.0f s; dead-lettered: %lld\n",
                    static_cast<long long>(stats.backlog), stats.oldest_pending_age_seconds,
                    static_cast<long long>(stats.dead));
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "billpayctl receipts list: " << e.what() << '\n';
        return 1;
    }
}

int run_receipts_replay(const std::string& config_file, const std::string& id) {
    auto settings = load_or_exit(config_file);
    auto db = open_store(settings);
    try {
        bool found = db.run_blocking([&](pqxx::connection& conn) {
            return store::replay_message(conn, id, operator_name());
        });
        if (!found) {
            std::cerr << "billpayctl receipts replay: no message " << id << '\n';
            return 1;
        }
        std::cout << "queued " << id << " for delivery again\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "billpayctl receipts replay: " << e.what() << '\n';
        return 1;
    }
}

int run_hash_key() {
    std::string key;
    std::getline(std::cin, key);
    while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) {
        key.pop_back();
    }
    if (key.size() < 32) {
        std::cerr << "billpayctl hash-key: an API key must be at least 32 characters "
                     "(e.g. `openssl rand -hex 32`)\n";
        return 1;
    }
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
    OPENSSL_cleanse(key.data(), key.size());
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "sha256:";
    for (unsigned char b : digest) {
        out.push_back(hex[b >> 4]);
        out.push_back(hex[b & 0xf]);
    }
    std::cout << out << '\n';
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"billpayctl: operate billpayd and its records"};
    app.require_subcommand(1);
    std::string config_file;
    app.add_option("--config,-c", config_file, "billpayd's YAML config file");
    app.set_version_flag("--version", std::string("billpayctl ") + BILLPAY_VERSION);

    auto* migrate =
        app.add_subcommand("migrate", "apply the database migrations this build carries");
    auto* hash_key = app.add_subcommand("hash-key",
                                        "read an API key on stdin, print its sha256: line for the "
                                        "config's clients[].api_key_sha256");
    auto* receipts = app.add_subcommand("receipts", "messages to the correspondence system");
    receipts->require_subcommand(1);
    auto* receipts_list =
        receipts->add_subcommand("list", "list undelivered messages (or by status)");
    std::string receipt_status;
    int receipt_limit = 100;
    receipts_list->add_option("--status", receipt_status, "pending, failed, dead or delivered")
        ->check(CLI::IsMember({"pending", "failed", "dead", "delivered"}));
    receipts_list->add_option("--limit", receipt_limit, "at most this many (oldest first)");
    auto* receipts_replay =
        receipts->add_subcommand("replay", "queue a dead or delivered message again");
    std::string receipt_id;
    receipts_replay->add_option("ID", receipt_id, "the message id (rcpt_…)")->required();
    CLI11_PARSE(app, argc, argv);

    billpay::logging::init("warn");
    if (*hash_key) {
        return run_hash_key();
    }
    if (config_file.empty()) {
        std::cerr << "billpayctl: --config FILE is required for "
                  << app.get_subcommands()[0]->get_name() << '\n';
        return 2;
    }
    if (*migrate) {
        return run_migrate(config_file);
    }
    if (*receipts_list) {
        return run_receipts_list(config_file, receipt_status, receipt_limit);
    }
    if (*receipts_replay) {
        return run_receipts_replay(config_file, receipt_id);
    }
    return 2;
}
