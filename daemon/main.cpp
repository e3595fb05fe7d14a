// billpayd: the payment daemon. See shared/DESIGN.md and docs/operations.md.
#include <sys/prctl.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>

#include "config/load.hpp"
#include "daemon/service.hpp"
#include "logging/log.hpp"
#include "tokenizer/card_data.hpp"

namespace {

// Locked memory for card data: room for thousands of cards in flight at once.
constexpr std::size_t secure_memory_bytes = 4 * 1024 * 1024;

/// Card data passes through this process's memory; a core dump or a ptrace by another user of
/// the same uid must never expose it. The tokenizer also excludes its pages from dumps.
void forbid_core_dumps() {
    rlimit none{0, 0};
    setrlimit(RLIMIT_CORE, &none);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/// Every connection is a file descriptor: take all the hard limit allows (systemd's
/// LimitNOFILE=), not the shell's default soft limit of 1024.
void raise_file_limit() {
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"billpayd: the bill payment daemon"};
    std::string config_file;
    bool check_only = false;
    app.add_option("--config,-c", config_file, "the YAML config file")->check(CLI::ExistingFile);
    app.add_flag("--check-config", check_only,
                 "validate the config, print every problem as FILE:LINE:COL: key: message, and "
                 "exit 0 (valid) or 1");
    app.set_version_flag("--version", std::string("billpayd ") + BILLPAY_VERSION);
    CLI11_PARSE(app, argc, argv);
    if (config_file.empty()) {
        std::cerr << "billpayd: --config FILE is required\n";
        return 2;
    }

    forbid_core_dumps();
    raise_file_limit();

    billpay::config::settings settings;
    try {
        settings = billpay::config::load(config_file);
    } catch (const billpay::config::invalid_config& e) {
        for (const auto& p : e.problems()) {
            std::cerr << p.to_string() << '\n';
        }
        return 1;
    }
    if (check_only) {
        std::cout << config_file << ": ok\n";
        return 0;
    }

    billpay::logging::init(settings.logging.level);
    // Card expiry is judged in the utility's time zone; logs stay in UTC (they format with
    // gmtime), so the process-wide zone touches nothing else.
    setenv("TZ", settings.payments.time_zone.c_str(), 1);
    tzset();
    if (!billpay::tokenizer::init_secure_memory(secure_memory_bytes)) {
        billpay::logging::error(
            "cannot lock memory for card data; raise the memory lock limit (systemd: "
            "LimitMEMLOCK=)",
            {{"bytes", secure_memory_bytes}});
        return 1;
    }
    try {
        billpay::daemon::service service(std::move(settings));
        int code = service.run();
        billpay::logging::flush();  // the last lines ("stopped") before the process ends
        return code;
    } catch (const std::exception& e) {
        billpay::logging::error("billpayd cannot start", {{"error", e.what()}});
        return 1;
    }
}
