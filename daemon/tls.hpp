#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "config/settings.hpp"

namespace billpay::daemon {

/// A certificate, key or CA file that OpenSSL would not take; the message names the file.
class tls_setup_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// Builds the server's TLS context from config `listen.tls`: TLS 1.2 and 1.3 only, Mozilla's
/// "intermediate" cipher suites and groups, no compression or renegotiation, plaintext copies
/// cleansed inside OpenSSL, and a required client certificate when `client_ca` is set.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(
    const config::tls_settings& settings);

/// The context new connections use. SIGHUP swaps it; a connection keeps the context it started
/// with (it holds a shared_ptr), so open connections are not dropped by a reload.
class tls_context_holder {
  public:
    explicit tls_context_holder(std::shared_ptr<boost::asio::ssl::context> initial)
        : current_(std::move(initial)) {}

    [[nodiscard]] std::shared_ptr<boost::asio::ssl::context> current() const {
        std::lock_guard lock(mutex_);
        return current_;
    }
    void replace(std::shared_ptr<boost::asio::ssl::context> next) {
        std::lock_guard lock(mutex_);
        current_ = std::move(next);
    }

  private:
    mutable std::mutex mutex_;
    std::shared_ptr<boost::asio::ssl::context> current_;
};

}  // namespace billpay::daemon
