#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/tls_files.hpp"

namespace billpay::test {

using fake_request = boost::beast::http::request<boost::beast::http::string_body>;

/// What a fake does with one request.
struct fake_reply {
    enum class kind { respond, hang, reset };
    kind action = kind::respond;
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    std::chrono::milliseconds delay{0};  // before answering (or before resetting)
    /// More header fields of the answer (e.g. Stripe's Idempotent-Replayed).
    std::vector<std::pair<std::string, std::string>> headers;
    /// Runs when the delay is over, before answering, whether or not the client still waits:
    /// a service that acts only at the end of a slow request.
    std::function<void()> after_delay;

    static fake_reply json(int status, std::string body) {
        return {kind::respond, status, std::move(body), "application/json", {}, {}, {}};
    }
};

/// An HTTPS/1.1 server on 127.0.0.1 (port chosen by the kernel, kept across stop/start) on a
/// thread of its own, answering each request with what `handler` says. The base of the fakes
/// of outside services (tests/fakes/): they speak those services' wire protocols on top of it.
class fake_https_server {
  public:
    using handler = std::function<fake_reply(const fake_request&)>;

    fake_https_server(tls_files certificate, handler h);
    ~fake_https_server();
    fake_https_server(const fake_https_server&) = delete;
    fake_https_server& operator=(const fake_https_server&) = delete;

    /// Listens (again, on the same port after stop()).
    void start();
    /// Closes the listener and every connection: connections are refused until start().
    void stop();

    [[nodiscard]] unsigned short port() const { return port_; }

    /// Closes a kept-alive connection that stays idle this long, as servers and load balancers
    /// do (Node and Apache: 5 s). Zero (the default): connections stay open.
    void close_idle_after(std::chrono::milliseconds idle) { idle_close_ms_ = idle.count(); }
    /// Connections accepted so far.
    [[nodiscard]] int connections() const { return connections_; }

  private:
    struct session;
    tls_files certificate_;
    handler handler_;
    unsigned short port_ = 0;
    std::unique_ptr<boost::asio::io_context> ioc_;
    std::unique_ptr<boost::asio::ssl::context> tls_;
    std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
    std::thread thread_;
    std::atomic<long> idle_close_ms_{0};
    std::atomic<int> connections_{0};
};

}  // namespace billpay::test
