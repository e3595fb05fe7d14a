#include "daemon/http_server.hpp"

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <vector>

#include "logging/log.hpp"
#include "model/ids.hpp"

namespace billpay::daemon {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

/// Overwrites every byte the read buffer has ever held, keeping any unread (pipelined) bytes.
/// Request bodies may carry card data, and a flat_buffer keeps consumed bytes in its storage.
using read_buffer = beast::basic_flat_buffer<tokenizer::wiping_allocator<char>>;

void wipe_read_buffer(read_buffer& buffer) {
    std::vector<unsigned char> pending(buffer.size());
    asio::buffer_copy(asio::buffer(pending), buffer.data());
    buffer.clear();
    auto storage = buffer.prepare(buffer.capacity());
    OPENSSL_cleanse(storage.data(), storage.size());
    if (!pending.empty()) {
        buffer.commit(asio::buffer_copy(buffer.prepare(pending.size()), asio::buffer(pending)));
        OPENSSL_cleanse(pending.data(), pending.size());
    }
}

void wipe_request(request& req) {
    auto& body = req.body();
    body.resize(body.capacity());
    OPENSSL_cleanse(body.data(), body.size());
    body.clear();
}

bool is_http_parse_error(const boost::system::error_code& ec) {
    return ec.category() == beast::http::make_error_code(beast::http::error::bad_target).category();
}

bool is_quiet_path(std::string_view target) {
    return target.starts_with("/healthz") || target.starts_with("/readyz") ||
           target.starts_with("/metrics");
}

/// Reads and throws away what the client still sends, for at most one second or 4 MiB.
template <class Stream>
asio::awaitable<void> discard_input(Stream& stream, beast::tcp_stream& lowest) {
    constexpr std::size_t max_discard = 4 * 1024 * 1024;
    std::array<char, 16 * 1024> scratch;
    std::size_t total = 0;
    lowest.expires_after(std::chrono::seconds(1));
    while (total < max_discard) {
        auto [ec, n] = co_await stream.async_read_some(asio::buffer(scratch), use_nothrow);
        if (ec) {
            break;
        }
        total += n;
    }
    OPENSSL_cleanse(scratch.data(), scratch.size());
}

}  // namespace

struct http_server::connection {
    asio::any_io_executor executor;
    beast::tcp_stream* stream = nullptr;  // valid while the session runs, touched on its strand
    bool idle = false;
};

http_server::http_server(asio::io_context& ioc, const config::listen_settings& settings,
                         tls_context_holder& tls, const router& routes)
    : ioc_(ioc), settings_(settings), tls_(tls), routes_(routes), acceptor_(ioc) {}

tcp::endpoint http_server::listen() {
    tcp::endpoint endpoint(asio::ip::make_address(settings_.address), settings_.port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    return acceptor_.local_endpoint();
}

void http_server::start() { asio::co_spawn(ioc_, accept_loop(), asio::detached); }

void http_server::begin_drain() {
    state_->draining = true;
    asio::post(acceptor_.get_executor(), [this] {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
    });
    std::lock_guard lock(state_->connections_mutex);
    for (auto& weak : state_->connections) {
        if (auto conn = weak.lock()) {
            asio::post(conn->executor, [conn] {
                if (conn->idle && conn->stream) {
                    conn->stream->cancel();
                }
            });
        }
    }
}

void http_server::close_all() {
    std::lock_guard lock(state_->connections_mutex);
    for (auto& weak : state_->connections) {
        if (auto conn = weak.lock()) {
            asio::post(conn->executor, [conn] {
                if (conn->stream) {
                    conn->stream->close();
                }
            });
        }
    }
}

asio::awaitable<void> http_server::accept_loop() {
    for (;;) {
        auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(ioc_), use_nothrow);
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
            co_return;
        }
        if (ec) {
            // Out of file descriptors and the like: say so, breathe, keep serving.
            logging::error("accept failed", {{"error", ec.message()}});
            asio::steady_timer pause(ioc_, std::chrono::milliseconds(100));
            co_await pause.async_wait(use_nothrow);
            continue;
        }
        if (state_->open.load() >= static_cast<std::size_t>(settings_.max_connections)) {
            logging::warn("connection refused: listen.max_connections reached",
                          {{"max_connections", settings_.max_connections}});
            boost::system::error_code ignored;
            socket.close(ignored);
            continue;
        }
        auto executor = socket.get_executor();
        asio::co_spawn(executor, serve(std::move(socket)), asio::detached);
    }
}

asio::awaitable<void> http_server::serve(tcp::socket socket) {
    std::shared_ptr<shared_state> state = state_;
    ++state->open;
    auto conn = std::make_shared<connection>();
    conn->executor = socket.get_executor();
    {
        std::lock_guard lock(state->connections_mutex);
        std::erase_if(state->connections, [](const auto& weak) { return weak.expired(); });
        state->connections.push_back(conn);
    }
    struct leave_guard {
        shared_state& state;
        connection& conn;
        ~leave_guard() {
            conn.stream = nullptr;
            --state.open;
        }
    } leave{*state, *conn};

    boost::system::error_code ignored;
    tcp::endpoint remote = socket.remote_endpoint(ignored);
    auto tls_context = tls_.current();  // kept for this connection's life: SIGHUP swaps safely
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls_context);
    auto& lowest = beast::get_lowest_layer(stream);
    conn->stream = &lowest;

    lowest.expires_after(settings_.handshake_timeout);
    if (auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_nothrow);
        ec) {
        logging::debug("TLS handshake failed",
                       {{"remote", remote.address().to_string()}, {"error", ec.message()}});
        co_return;
    }

    // A verified client certificate (listen.tls.client_ca) may name the API client.
    std::string client_certificate_cn;
    if (X509* peer = SSL_get0_peer_certificate(stream.native_handle())) {
        char cn[256] = {};
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn) >
            0) {
            client_certificate_cn = cn;
        }
    }

    read_buffer buffer;
    bool first = true;
    for (;;) {
        if (state->draining) {
            break;
        }
        // Wait for the first byte of the next request: an idle keep-alive connection may wait
        // idle_timeout; once a request starts, all of it must arrive within read_timeout.
        if (buffer.size() == 0) {
            conn->idle = !first;
            lowest.expires_after(first ? settings_.read_timeout : settings_.idle_timeout);
            auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_nothrow);
            conn->idle = false;
            if (ec) {
                break;  // closed, timed out, or cancelled by a drain
            }
            buffer.commit(n);
        }
        first = false;
        lowest.expires_after(settings_.read_timeout);

        http::request_parser<request_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(settings_.max_header_bytes));
        parser.body_limit(settings_.max_body_bytes);
        request_context ctx;
        ctx.remote = remote;
        ctx.client_certificate_cn = client_certificate_cn;
        auto started = std::chrono::steady_clock::now();

        auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_nothrow);
        if (!ec && !parser.is_done()) {
            auto expect = parser.get()[http::field::expect];
            if (beast::iequals(expect, "100-continue")) {
                http::response<http::empty_body> go_on{http::status::continue_, 11};
                lowest.expires_after(settings_.write_timeout);
                std::tie(ec, n) = co_await http::async_write(stream, go_on, use_nothrow);
                lowest.expires_after(settings_.read_timeout);
            }
            if (!ec) {
                std::tie(ec, n) = co_await http::async_read(stream, buffer, parser, use_nothrow);
            }
        }

        response res;
        bool keep_alive = false;
        if (ec) {
            ctx.request_id = model::new_id("req");
            if (ec == http::error::body_limit) {
                res = render(
                    {http::status::payload_too_large, error_type::invalid_request_error,
                     "body_too_large", "The request body is larger than this server accepts."},
                    ctx.request_id);
            } else if (ec == http::error::header_limit) {
                res = render({http::status::request_header_fields_too_large,
                              error_type::invalid_request_error, "headers_too_large",
                              "The request headers are larger than this server accepts."},
                             ctx.request_id);
            } else if (is_http_parse_error(ec) && ec != http::error::end_of_stream &&
                       ec != http::error::partial_message) {
                res = render(
                    invalid_request("", "malformed_request", "The request is not valid HTTP/1.1."),
                    ctx.request_id);
            } else {
                wipe_read_buffer(buffer);
                break;  // the client went away or was too slow: nobody to answer
            }
            logging::info("request refused", {{"request_id", ctx.request_id},
                                              {"status", static_cast<int>(res.result_int())},
                                              {"error", ec.message()},
                                              {"remote", remote.address().to_string()}});
        } else {
            request& req = parser.get();
            ctx.request_id = model::new_id("req");
            res = co_await handle(ctx, req);
            keep_alive = req.keep_alive() && !state->draining;
            auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::steady_clock::now() - started);
            auto level = is_quiet_path(req.target()) ? spdlog::level::debug : spdlog::level::info;
            auto method = req.method_string();
            // One line per request: what a payment's request did is in it too.
            const std::string_view verb(method.data(), method.size());
            const auto status = static_cast<int>(res.result_int());
            const auto duration_us = static_cast<std::int64_t>(elapsed.count());
            if (ctx.payment_id.empty() && ctx.outcome.empty()) {
                logging::write(level, "request",
                               {{"request_id", ctx.request_id},
                                {"method", verb},
                                {"path", ctx.path},
                                {"status", status},
                                {"duration_us", duration_us},
                                {"remote", remote.address().to_string()}});
            } else {
                logging::write(level, "request",
                               {{"request_id", ctx.request_id},
                                {"method", verb},
                                {"path", ctx.path},
                                {"status", status},
                                {"payment_id", ctx.payment_id},
                                {"outcome", ctx.outcome},
                                {"duration_us", duration_us},
                                {"remote", remote.address().to_string()}});
            }
            wipe_request(req);
        }
        wipe_read_buffer(buffer);

        res.set("Request-Id", ctx.request_id);
        res.keep_alive(keep_alive);
        res.prepare_payload();
        lowest.expires_after(settings_.write_timeout);
        auto [write_ec, written] = co_await http::async_write(stream, res, use_nothrow);
        if (!write_ec && ec) {
            // A request refused before its body was read: the client may still be sending it.
            // Closing now would answer its bytes with a TCP reset that can destroy our error
            // response before the client reads it, so discard what still arrives, briefly.
            co_await discard_input(stream, lowest);
        }
        if (write_ec || !keep_alive) {
            break;
        }
    }

    if (lowest.socket().is_open()) {
        lowest.expires_after(std::chrono::seconds(2));
        co_await stream.async_shutdown(use_nothrow);
    }
}

asio::awaitable<response> http_server::handle(request_context& ctx, request& req) {
    try {
        co_return co_await routes_.dispatch(ctx, req);
    } catch (const std::exception& e) {
        // Handlers turn expected outcomes into responses themselves; this is a defect. The
        // exception text is logged for the operator, never sent to the client.
        logging::error("handler failed", {{"request_id", ctx.request_id}, {"error", e.what()}});
    }
    co_return render({http::status::internal_server_error, error_type::api_error, "internal_error",
                      "Something went wrong on our side."},
                     ctx.request_id);
}

}  // namespace billpay::daemon
