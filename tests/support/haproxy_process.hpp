#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace billpay::test {

/// Debian's HAProxy in front of billpayd instances, configured as docs/operations.md says:
/// TCP mode (TLS ends at billpayd, which keeps its client-certificate checks), GET /readyz
/// over TLS as the health check every 250 ms (down after 2 failures, up after 2 successes), a
/// failed connect retried on another instance. Its statistics (CSV) are served on a second
/// port for the test to read each backend's state.
class haproxy_process {
  public:
    /// `backend_ports`: the ports billpayd instances listen (or will listen) on, 127.0.0.1.
    explicit haproxy_process(const std::vector<unsigned short>& backend_ports);

    /// Where clients connect.
    [[nodiscard]] unsigned short port() const { return port_; }
    /// Each backend server's state as HAProxy's statistics name it ("UP", "DOWN", "UP 1/2", …),
    /// by server name billpayd-1, billpayd-2, …
    [[nodiscard]] std::map<std::string, std::string> server_states() const;
    /// Waits until every backend's state is `state` ("UP": serving and no check failing;
    /// "DOWN": taken out); true if it did in time.
    bool wait_for_all(const std::string& state, std::chrono::milliseconds timeout) const;
    /// Waits until the named backend's state is `state`.
    bool wait_for(const std::string& server, const std::string& state,
                  std::chrono::milliseconds timeout) const;

    [[nodiscard]] std::string log() const;

  private:
    temp_dir dir_;
    unsigned short port_ = 0;
    unsigned short stats_port_ = 0;
    std::unique_ptr<child_process> process_;
};

}  // namespace billpay::test
