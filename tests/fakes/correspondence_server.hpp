#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "tests/fakes/fake_https_server.hpp"

namespace billpay::test {

/// A stand-in for the utility's correspondence system: an HTTPS server on loopback that
/// receives billpayd's webhook exactly as documented (POST, application/json, Idempotency-Key,
/// Billpay-Signature t=…,v1=HMAC-SHA256(secret, t + "." + body)), verifies every signature
/// (wrong secret or a timestamp more than 5 minutes off: 400), de-duplicates on the message id
/// as a real receiver must, and can be told to misbehave.
class correspondence_server {
  public:
    enum class mode {
        accept,  // 200
        fail,    // 500
        reject,  // 400 (a permanent refusal)
        hang,    // read the request, never answer
    };

    correspondence_server(tls_files certificate, std::string signing_secret);

    /// Starts listening (again, on the same port after stop()).
    void start() { server_->start(); }
    /// Stops listening and drops every connection: connections are refused until start().
    void stop() { server_->stop(); }
    /// Closes kept-alive connections idle this long, as servers and load balancers do.
    void close_idle_after(std::chrono::milliseconds idle) { server_->close_idle_after(idle); }
    [[nodiscard]] int connections() const { return server_->connections(); }
    void set_mode(mode m) { mode_ = m; }
    void set_delay(std::chrono::milliseconds d) { delay_ms_ = d.count(); }

    [[nodiscard]] unsigned short port() const { return server_->port(); }
    [[nodiscard]] std::string url() const;

    /// Every validly signed message accepted (2xx), by id: how many times it arrived.
    [[nodiscard]] std::map<std::string, int> accepted() const;
    /// The bodies accepted (one per id: later copies must be identical).
    [[nodiscard]] std::map<std::string, std::string> bodies() const;
    [[nodiscard]] int bad_signatures() const { return bad_signatures_; }
    /// Ids that arrived with a different body under the same id (must stay empty).
    [[nodiscard]] std::set<std::string> conflicting_ids() const;

    /// Waits until `n` distinct ids were accepted; true if they were in time.
    bool wait_for_distinct(std::size_t n, std::chrono::milliseconds timeout) const;

  private:
    fake_reply handle(const fake_request& req);
    [[nodiscard]] bool valid_request(const fake_request& req) const;

    std::string secret_;
    std::atomic<mode> mode_{mode::accept};
    std::atomic<long> delay_ms_{0};
    std::atomic<int> bad_signatures_{0};
    mutable std::mutex mutex_;
    std::map<std::string, int> accepted_;
    std::map<std::string, std::string> bodies_;
    std::set<std::string> conflicts_;
    std::unique_ptr<fake_https_server> server_;  // last: stopped first
};

/// HMAC-SHA256 hex, as the receiver recomputes it (independent of billpayd's code).
std::string receiver_hmac_hex(const std::string& secret, const std::string& data);

}  // namespace billpay::test
