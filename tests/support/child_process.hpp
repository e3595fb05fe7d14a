#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace billpay::test {

/// A program a test starts (billpayd, HAProxy), with its stdout and stderr appended to
/// `output`. It dies with the test process (PR_SET_PDEATHSIG) and is killed (SIGKILL) when the
/// object goes, if it still runs: a test must not leave servers behind.
class child_process {
  public:
    /// `args[0]` is the program's path. `env` is added to the inherited environment; the value
    /// "=stderr" of JOURNAL_STREAM becomes the device:inode of the child's stderr, as systemd
    /// sets it when the journal is the stream.
    child_process(std::vector<std::string> args, std::filesystem::path output,
                  std::map<std::string, std::string> env = {});
    ~child_process();
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    void send_signal(int signal);
    /// Waits for the process to end; returns its exit code (128+N for signal N), or nullopt.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);
    [[nodiscard]] bool exited() const { return exit_code_.has_value(); }
    [[nodiscard]] pid_t pid() const { return pid_; }
    [[nodiscard]] const std::filesystem::path& output() const { return output_; }

  private:
    std::filesystem::path output_;
    pid_t pid_ = -1;
    std::optional<int> exit_code_;
};

/// A TCP port on 127.0.0.1 that nothing listens on now (the kernel's choice for port 0), for
/// servers that must be told their port before they start: HAProxy's configuration names its
/// backends' ports.
unsigned short unused_port();

}  // namespace billpay::test
