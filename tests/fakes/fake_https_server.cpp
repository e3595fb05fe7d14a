#include "tests/fakes/fake_https_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace billpay::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

}  // namespace

struct fake_https_server::session {
    static asio::awaitable<void> serve(fake_https_server& server,
                                       beast::ssl_stream<beast::tcp_stream> stream) {
        auto [handshake_error] =
            co_await stream.async_handshake(asio::ssl::stream_base::server, use_nothrow);
        if (handshake_error) {
            co_return;
        }
        ++server.connections_;
        beast::flat_buffer buffer;
        for (;;) {
            fake_request req;
            if (long idle = server.idle_close_ms_.load(); idle > 0) {
                beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(idle));
            }
            auto [read_error, n] = co_await http::async_read(stream, buffer, req, use_nothrow);
            if (read_error) {
                co_return;  // the client left, or stayed idle too long: the connection closes
            }
            beast::get_lowest_layer(stream).expires_never();
            auto reply = server.handler_(req);
            if (reply.delay.count() > 0) {
                asio::steady_timer timer(stream.get_executor(), reply.delay);
                co_await timer.async_wait(use_nothrow);
            }
            if (reply.after_delay) {
                reply.after_delay();
            }
            if (reply.action == fake_reply::kind::hang) {
                asio::steady_timer forever(stream.get_executor(), std::chrono::hours(1));
                co_await forever.async_wait(use_nothrow);
                co_return;
            }
            if (reply.action == fake_reply::kind::reset) {
                boost::system::error_code ignored;
                beast::get_lowest_layer(stream).socket().set_option(
                    asio::socket_base::linger(true, 0), ignored);
                beast::get_lowest_layer(stream).socket().close(ignored);
                co_return;
            }
            http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
            res.set(http::field::content_type, reply.content_type);
            for (const auto& [name, value] : reply.headers) {
                res.set(name, value);
            }
            res.body() = std::move(reply.body);
            res.keep_alive(req.keep_alive());
            res.prepare_payload();
            auto [write_error, w] = co_await http::async_write(stream, res, use_nothrow);
            if (write_error || !req.keep_alive()) {
                co_return;
            }
        }
    }
};

fake_https_server::fake_https_server(tls_files certificate, handler h)
    : certificate_(std::move(certificate)), handler_(std::move(h)) {
    start();
}

fake_https_server::~fake_https_server() { stop(); }

void fake_https_server::start() {
    if (ioc_) {
        return;
    }
    ioc_ = std::make_unique<asio::io_context>();
    tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    tls_->use_certificate_chain_file(certificate_.certificate.string());
    tls_->use_private_key_file(certificate_.key.string(), asio::ssl::context::pem);
    acceptor_ = std::make_unique<asio::ip::tcp::acceptor>(*ioc_);
    asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port_);
    acceptor_->open(endpoint.protocol());
    acceptor_->set_option(asio::socket_base::reuse_address(true));
    acceptor_->bind(endpoint);
    acceptor_->listen();
    port_ = acceptor_->local_endpoint().port();
    asio::co_spawn(
        *ioc_,
        [this]() -> asio::awaitable<void> {
            for (;;) {
                auto [ec, socket] = co_await acceptor_->async_accept(use_nothrow);
                if (ec) {
                    co_return;
                }
                asio::co_spawn(
                    *ioc_,
                    session::serve(*this, beast::ssl_stream<beast::tcp_stream>(
                                              beast::tcp_stream(std::move(socket)), *tls_)),
                    asio::detached);
            }
        },
        asio::detached);
    thread_ = std::thread([this] { ioc_->run(); });
}

void fake_https_server::stop() {
    if (!ioc_) {
        return;
    }
    ioc_->stop();
    thread_.join();
    acceptor_.reset();
    ioc_.reset();  // destroys every session, closing its connection
    tls_.reset();
}

}  // namespace billpay::test
