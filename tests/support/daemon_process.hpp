#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/tls_files.hpp"

namespace billpay::test {

/// What a test's billpayd config says; the rest are test-friendly defaults (port 0, short
/// timeouts). `extra_listen` and `extra_root` are YAML lines added under `listen:` and at the
/// top level.
struct daemon_config {
    std::string dsn;
    tls_files server;
    std::optional<std::filesystem::path> client_ca;
    unsigned short port = 0;  // 0: the kernel picks one, named in the "listening" log line
    int threads = 2;
    int read_timeout_ms = 2000;
    int idle_timeout_ms = 5000;
    int shutdown_grace_ms = 5000;
    std::string extra_listen;
    std::string extra_tls;  // more of listen.tls, indented four spaces
    std::string extra_root;
    /// The `correspondence:` section; empty: spool into <config dir>/spool.
    std::string correspondence;
    std::string log_level = "debug";
};

/// Writes the config as YAML into `dir`/billpayd.yaml (with a fingerprint key file beside it)
/// and returns its path.
std::filesystem::path write_config(const std::filesystem::path& dir, const daemon_config& config);

/// The path of a program built by this tree (build/bin/NAME).
std::filesystem::path built_program(const std::string& name);

/// The real billpayd binary, started as a child process with its stderr (the JSON log) going to
/// a file. Killed (SIGKILL) when the object goes, if it still runs.
class daemon_process {
  public:
    /// `extra_env` is set in billpayd's environment; JOURNAL_STREAM "=stderr" names billpayd's
    /// stderr as systemd would when it is the journal's stream.
    daemon_process(const std::filesystem::path& config_file,
                   std::map<std::string, std::string> extra_env = {},
                   std::vector<std::string> extra_args = {});
    ~daemon_process();
    daemon_process(const daemon_process&) = delete;
    daemon_process& operator=(const daemon_process&) = delete;

    /// Waits until a log line contains `text`; returns that line, or nullopt after `timeout`.
    std::optional<std::string> wait_for_log(
        const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(20));

    /// Waits for the "listening" line and returns the port it names (tests listen on port 0).
    unsigned short port();

    /// Waits for the "ready" line (database reachable, schema current). Throws on timeout.
    void wait_ready();

    void send_signal(int signal);

    /// Waits for the process to end; returns its exit code (128+N for signal N), or nullopt.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(20));

    [[nodiscard]] std::string log() const;
    [[nodiscard]] pid_t pid() const { return process_->pid(); }

  private:
    std::unique_ptr<child_process> process_;
    std::optional<unsigned short> port_;
};

}  // namespace billpay::test
