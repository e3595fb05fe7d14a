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
#include <cstring>
#include <map>
#include <vector>

#include "daemon/request_checks.hpp"
#include "logging/log.hpp"
#include "metrics/metrics.hpp"
#include "model/ids.hpp"

namespace billpay::daemon {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;

/// A request's method as a metrics label: a client may send any token as its method, and each
/// new label value is a new series kept for the process's life.
std::string method_label(std::string_view verb) {
    for (std::string_view known : {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}) {
        if (verb == known) {
            return std::string(verb);
        }
    }
    return "other";
}
using tcp = asio::ip::tcp;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

/// Overwrites every byte the read buffer has ever held, keeping any unread (pipelined) bytes.
/// Request bodies may carry card data, and a flat_buffer keeps consumed bytes in its storage.
using read_buffer = beast::basic_flat_buffer<memory::wiping_allocator<char>>;

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

/// The subject CN of a certificate when it has exactly one and it holds no NUL: a name that
/// could be read two ways (two CNs, "portal\0evil") names nobody.
std::string sole_common_name(X509* certificate) {
    X509_NAME* subject = X509_get_subject_name(certificate);
    const int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (at < 0 || X509_NAME_get_index_by_NID(subject, NID_commonName, at) >= 0) {
        return {};
    }
    unsigned char* utf8 = nullptr;
    const int length =
        ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at)));
    std::string name;
    if (length > 0 && std::memchr(utf8, 0, static_cast<std::size_t>(length)) == nullptr) {
        name.assign(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
    }
    OPENSSL_free(utf8);
    return name;
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

bool http_server::take_address_slot(const asio::ip::address& address) {
    std::lock_guard lock(state_->connections_mutex);
    int& open = state_->per_address[address];
    if (open >= settings_.max_connections_per_address) {
        if (open == 0) {
            state_->per_address.erase(address);
        }
        return false;
    }
    ++open;
    return true;
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
        boost::system::error_code no_peer;
        const auto peer = socket.remote_endpoint(no_peer).address();
        if (!take_address_slot(peer)) {
            logging::warn("connection refused: listen.max_connections_per_address reached",
                          {{"remote", peer.to_string()},
                           {"max_connections_per_address", settings_.max_connections_per_address}});
            boost::system::error_code ignored;
            socket.close(ignored);
            continue;
        }
        if (settings_.send_buffer_bytes > 0) {
            boost::system::error_code ignored;
            socket.set_option(asio::socket_base::send_buffer_size(settings_.send_buffer_bytes),
                              ignored);
        }
        auto executor = socket.get_executor();
        asio::co_spawn(executor, serve(std::move(socket), peer), asio::detached);
    }
}

asio::awaitable<void> http_server::serve(tcp::socket socket, asio::ip::address peer) {
    std::shared_ptr<shared_state> state = state_;
    ++state->open;
    auto conn = std::make_shared<connection>();
    conn->executor = socket.get_executor();
    {
        std::lock_guard lock(state->connections_mutex);
        std::erase_if(state->connections, [](const auto& weak) { return weak.expired(); });
        state->connections.push_back(conn);
    }
    boost::system::error_code ignored;
    tcp::endpoint remote = socket.remote_endpoint(ignored);
    struct leave_guard {
        shared_state& state;
        connection& conn;
        asio::ip::address address;
        ~leave_guard() {
            conn.stream = nullptr;
            --state.open;
            std::lock_guard lock(state.connections_mutex);
            if (auto it = state.per_address.find(address);
                it != state.per_address.end() && --it->second == 0) {
                state.per_address.erase(it);
            }
        }
    } leave{*state, *conn, peer};       // the address its slot was counted under
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
    const bool client_certificate = SSL_get0_peer_certificate(stream.native_handle()) != nullptr;
    const std::string client_certificate_cn =
        client_certificate ? sole_common_name(SSL_get0_peer_certificate(stream.native_handle()))
                           : std::string();

    read_buffer buffer;
    bool first = true;
    bool authenticated = false;  // some request on this connection named a client
    for (;;) {
        if (state->draining) {
            break;
        }
        // Wait for the first byte of the next request: an idle keep-alive connection may wait
        // idle_timeout, one that no client has used yet only unauthenticated_idle_timeout; once
        // a request starts, all of it must arrive within read_timeout.
        if (buffer.size() == 0) {
            conn->idle = !first;
            const auto wait =
                authenticated ? (first ? settings_.read_timeout : settings_.idle_timeout)
                              : std::min(first ? settings_.read_timeout : settings_.idle_timeout,
                                         settings_.unauthenticated_idle_timeout);
            lowest.expires_after(wait);
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
        ctx.client_certificate = client_certificate;
        ctx.client_certificate_cn = client_certificate_cn;
        auto started = std::chrono::steady_clock::now();

        ctx.request_id = model::new_id("req");
        auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_nothrow);
        std::optional<response> refused_early;
        if (!ec) {
            if (auto bad = header_refusal(parser.get(), settings_.max_header_bytes)) {
                refused_early = render(*bad, ctx.request_id);
            }
        }
        if (!ec && !refused_early) {
            // The headers decide whether the body is read at all: a route for clients with
            // headers that name none is answered now, and the connection closed.
            auto admitted = routes_.admit(parser.get(), ctx);
            authenticated = authenticated || admitted.authenticated;
            refused_early = std::move(admitted.refusal);
        }
        if (!ec && !refused_early && !parser.is_done()) {
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
        if (refused_early) {
            res = std::move(*refused_early);
            const auto method = parser.get().method_string();
            logging::info("request refused before its body",
                          {{"request_id", ctx.request_id},
                           {"method", std::string_view(method.data(), method.size())},
                           {"status", static_cast<int>(res.result_int())},
                           {"remote", remote.address().to_string()}});
            wipe_request(parser.get());
        } else if (ec) {
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
            res = co_await handle(ctx, req);
            // A refused client gets no second try on this connection: it is closed, so that
            // nobody unauthenticated holds a slot by asking again and again.
            const bool refused = res.result() == http::status::unauthorized ||
                                 res.result() == http::status::forbidden;
            keep_alive = req.keep_alive() && !state->draining && !refused;
            auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::steady_clock::now() - started);
            auto level = is_quiet_path(req.target()) ? spdlog::level::debug : spdlog::level::info;
            auto method = req.method_string();
            // One line per request: what a payment's request did is in it too.
            const std::string_view verb(method.data(), method.size());
            const auto status = static_cast<int>(res.result_int());
            const auto duration_us = static_cast<std::int64_t>(elapsed.count());
            metrics::process().http_request_duration.observe(
                {ctx.route.empty() ? std::string("none") : ctx.route, method_label(verb),
                 std::to_string(status)},
                static_cast<double>(duration_us) / 1e6);
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
        if (write_ec == beast::error::timeout) {
            logging::info(
                "client did not take its response within write_timeout_ms; dropped",
                {{"request_id", ctx.request_id}, {"remote", remote.address().to_string()}});
        }
        if (!write_ec && (ec || refused_early)) {
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
