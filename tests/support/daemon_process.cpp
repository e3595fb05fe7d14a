#include "tests/support/daemon_process.hpp"

#include <unistd.h>

#include <stdexcept>
#include <thread>

#include "tests/support/temp_dir.hpp"

namespace billpay::test {

std::filesystem::path built_program(const std::string& name) {
    return std::filesystem::path(BILLPAY_BIN_DIR) / name;
}

std::filesystem::path write_config(const std::filesystem::path& dir, const daemon_config& c) {
    // A test key: 32 bytes of hex, made once per folder and kept across rewrites of the config
    // (as in production: a new key makes every known card, and every replay, look new).
    if (!std::filesystem::exists(dir / "fingerprint-key")) {
        write_file(dir / "fingerprint-key", capture_command("openssl rand -hex 32"));
    }
    std::string yaml;
    yaml += "listen:\n";
    yaml += "  address: 127.0.0.1\n";
    yaml += "  port: " + std::to_string(c.port) + "\n";
    yaml += "  threads: " + std::to_string(c.threads) + "\n";
    yaml += "  read_timeout_ms: " + std::to_string(c.read_timeout_ms) + "\n";
    yaml += "  idle_timeout_ms: " + std::to_string(c.idle_timeout_ms) + "\n";
    yaml += "  shutdown_grace_ms: " + std::to_string(c.shutdown_grace_ms) + "\n";
    yaml += c.extra_listen;
    yaml += "  tls:\n";
    yaml += "    certificate: " + c.server.certificate.string() + "\n";
    yaml += "    private_key: " + c.server.key.string() + "\n";
    if (c.client_ca) {
        yaml += "    client_ca: " + c.client_ca->string() + "\n";
    }
    yaml += c.extra_tls;
    yaml += "database:\n";
    yaml += "  dsn: \"" + c.dsn + "\"\n";
    yaml += "  pool_size: 2\n";
    yaml += "  connect_timeout_ms: 2000\n";
    yaml += "tokenizer:\n";
    yaml += "  fingerprint_key_file: fingerprint-key\n";
    if (c.correspondence.empty()) {
        yaml += "correspondence:\n";
        yaml += "  transport: spool\n";
        yaml += "  spool: { directory: spool }\n";
    } else {
        yaml += c.correspondence;
    }
    yaml += "logging:\n";
    yaml += "  level: " + c.log_level + "\n";
    yaml += c.extra_root;
    auto file = dir / "billpayd.yaml";
    write_file(file, yaml);
    return file;
}

daemon_process::daemon_process(const std::filesystem::path& config_file,
                               std::map<std::string, std::string> extra_env,
                               std::vector<std::string> extra_args) {
    auto log_file = config_file.parent_path() /
                    ("billpayd-" + std::to_string(::getpid()) + "-" +
                     std::to_string(reinterpret_cast<std::uintptr_t>(this)) + ".log");
    std::vector<std::string> args{built_program("billpayd").string(), "--config",
                                  config_file.string()};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    process_ = std::make_unique<child_process>(std::move(args), log_file, std::move(extra_env));
}

daemon_process::~daemon_process() = default;

std::string daemon_process::log() const { return read_file(process_->output()); }

std::optional<std::string> daemon_process::wait_for_log(const std::string& text,
                                                        std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
        std::string content = log();
        if (auto at = content.find(text); at != std::string::npos) {
            auto start = content.rfind('\n', at);
            start = start == std::string::npos ? 0 : start + 1;
            auto end = content.find('\n', at);
            return content.substr(start, end == std::string::npos ? end : end - start);
        }
        if (wait_exit(std::chrono::milliseconds(0))) {
            return std::nullopt;  // it ended without saying it
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    } while (std::chrono::steady_clock::now() < deadline);
    return std::nullopt;
}

unsigned short daemon_process::port() {
    if (port_) {
        return *port_;
    }
    auto line = wait_for_log("\"message\":\"listening\"");
    if (!line) {
        throw std::runtime_error("billpayd did not start listening; its log:\n" + log());
    }
    auto at = line->find("\"port\":");
    port_ = static_cast<unsigned short>(std::stoi(line->substr(at + 7)));
    return *port_;
}

void daemon_process::wait_ready() {
    if (!wait_for_log("\"message\":\"ready\"")) {
        throw std::runtime_error("billpayd did not become ready; its log:\n" + log());
    }
}

void daemon_process::send_signal(int signal) { process_->send_signal(signal); }

std::optional<int> daemon_process::wait_exit(std::chrono::milliseconds timeout) {
    return process_->wait_exit(timeout);
}

}  // namespace billpay::test
