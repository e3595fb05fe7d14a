#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <list>
#include <map>
#include <memory>
#include <mutex>

#include "config/settings.hpp"
#include "daemon/router.hpp"
#include "daemon/tls.hpp"

namespace billpay::daemon {

/// The HTTPS listener (config `listen`): TLS on every connection, HTTP/1.1 keep-alive, limits on
/// header and body size and on open connections, and a deadline on every handshake, read and
/// write, so a slow or silent client is dropped. Each connection is one coroutine on its own
/// strand; the io_context may be run by several threads.
class http_server {
  public:
    http_server(boost::asio::io_context& ioc, const config::listen_settings& settings,
                tls_context_holder& tls, const router& routes);

    /// Binds and listens. Throws boost::system::system_error when the address is taken.
    boost::asio::ip::tcp::endpoint listen();

    /// Starts accepting connections on the io_context.
    void start();

    /// Graceful stop, step one: close the listening socket, close idle keep-alive connections,
    /// and let in-flight requests finish (their responses say Connection: close).
    void begin_drain();

    /// Graceful stop, step two (after the grace period): cut every connection still open.
    void close_all();

    [[nodiscard]] std::size_t open_connections() const noexcept { return state_->open.load(); }

  private:
    struct connection;       // one open connection's handle, for drain and close
    struct connection_slot;  // a connection counted in, for as long as it is open

    /// What connections share with the server. Held by every connection's coroutine, so a
    /// coroutine destroyed after the server (when the io_context goes) touches nothing freed.
    struct shared_state {
        std::atomic<bool> draining{false};
        std::atomic<std::size_t> open{0};
        std::mutex connections_mutex;
        std::list<std::weak_ptr<connection>> connections;
        std::map<boost::asio::ip::address, int> per_address;  // open connections by address
    };

    /// Counts a new connection from `address`; false (nothing counted) past
    /// listen.max_connections_per_address.
    bool take_address_slot(const boost::asio::ip::address& address);

    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket,
                                       boost::asio::ip::address peer);
    boost::asio::awaitable<response> handle(request_context& ctx, request& req);

    boost::asio::io_context& ioc_;
    const config::listen_settings& settings_;
    tls_context_holder& tls_;
    const router& routes_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::shared_ptr<shared_state> state_ = std::make_shared<shared_state>();
};

}  // namespace billpay::daemon
