#pragma once

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "config/settings.hpp"

namespace billpay::daemon {

/// A certificate, key or CA file that OpenSSL would not take; the message names the file.
class tls_setup_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// The keys that seal session tickets, rotated on a schedule: the newest key seals tickets for
/// one `period`, and opens them for one more (a ticket it opened then is renewed under the
/// next key); after that it is wiped. OpenSSL's own keys would last as long as the context,
/// which only SIGHUP replaces. One ring serves every context a reload makes, so resumption
/// survives a certificate reload. Thread-safe.
class ticket_key_ring {
  public:
    explicit ticket_key_ring(std::chrono::milliseconds period) : period_(period) {}
    ~ticket_key_ring();
    ticket_key_ring(const ticket_key_ring&) = delete;
    ticket_key_ring& operator=(const ticket_key_ring&) = delete;

    /// OpenSSL's ticket callback, for `context` (SSL_CTX_set_tlsext_ticket_key_evp_cb).
    void install(SSL_CTX* context, const std::shared_ptr<ticket_key_ring>& self);

  private:
    struct key {
        unsigned char name[16];
        unsigned char cipher[32];
        unsigned char mac[32];
        std::chrono::steady_clock::time_point made;
        bool live = false;
        void wipe();
    };
    static int on_ticket(SSL* ssl, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                         EVP_MAC_CTX* mac, int seal);
    int seal(unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac);
    int open(const unsigned char* name, const unsigned char* iv, EVP_CIPHER_CTX* cipher,
             EVP_MAC_CTX* mac);
    void expire(std::chrono::steady_clock::time_point now);

    const std::chrono::milliseconds period_;
    std::mutex mutex_;
    key slots_[2];     // the newest and the one before it, in place: never copied
    int newest_ = -1;  // index into slots_, -1 before the first ticket
};

/// Builds the server's TLS context from config `listen.tls`: TLS 1.2 and 1.3 only, Mozilla's
/// "intermediate" cipher suites and groups, no compression or renegotiation, plaintext copies
/// cleansed inside OpenSSL, a required client certificate when `client_ca` is set, and session
/// resumption (tickets sealed by `tickets`; a session resumes only where the same client CA
/// would verify it).
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(
    const config::tls_settings& settings, const std::shared_ptr<ticket_key_ring>& tickets);

/// When the context's server certificate expires (Unix seconds), for /metrics; nullopt when
/// it has none.
std::optional<std::int64_t> certificate_expiry(const boost::asio::ssl::context& context);

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
