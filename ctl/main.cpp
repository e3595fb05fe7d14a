// billpayctl: the operators' and finance staff's command line. See docs/operations.md.
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <pqxx/pqxx>
#include <string>

#include "config/load.hpp"
#include "logging/log.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

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
    return 2;
}
