#include "tests/support/daemon_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
    yaml += "  port: 0\n";
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
    log_file_ = config_file.parent_path() /
                ("billpayd-" + std::to_string(::getpid()) + "-" +
                 std::to_string(reinterpret_cast<std::uintptr_t>(this)) + ".log");
    std::string binary = built_program("billpayd").string();
    std::vector<std::string> args{binary, "--config", config_file.string()};
    args.insert(args.end(), extra_args.begin(), extra_args.end());

    pid_ = ::fork();
    if (pid_ < 0) {
        throw std::runtime_error("fork failed");
    }
    if (pid_ == 0) {
        // If the test process dies without its destructors (a crash, ctest's timeout), take
        // billpayd with it: a test must not leave servers behind.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = ::open(log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            ::dup2(fd, STDERR_FILENO);
            ::dup2(fd, STDOUT_FILENO);
        }
        // Nothing else of the test process goes along: an inherited listening socket of a fake
        // would keep its port bound (and its connections unanswered) after the fake stops.
        ::close_range(3, ~0U, 0);
        for (const auto& [key, value] : extra_env) {
            std::string v = value;
            if (key == "JOURNAL_STREAM" && v == "=stderr") {
                // As systemd says when it connects stderr to the journal: its device and inode.
                struct stat st {};
                ::fstat(STDERR_FILENO, &st);
                v = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
            }
            ::setenv(key.c_str(), v.c_str(), 1);
        }
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        ::execv(binary.c_str(), argv.data());
        ::_exit(127);
    }
}

daemon_process::~daemon_process() {
    if (pid_ > 0 && !exit_code_) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
}

std::string daemon_process::log() const { return read_file(log_file_); }

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
        if (exit_code_ || (pid_ > 0 && wait_exit(std::chrono::milliseconds(0)))) {
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

void daemon_process::send_signal(int signal) { ::kill(pid_, signal); }

std::optional<int> daemon_process::wait_exit(std::chrono::milliseconds timeout) {
    if (exit_code_) {
        return exit_code_;
    }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            return exit_code_;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

}  // namespace billpay::test
