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

/// What a read that failed is answered with; nullopt when there is nobody to answer (the client
/// went away, or was too slow).
std::optional<api_error> answer_to_read_error(const boost::system::error_code& ec) {
    if (ec == http::error::body_limit) {
        return api_error{http::status::payload_too_large, error_type::invalid_request_error,
                         "body_too_large", "The request body is larger than this server accepts."};
    }
    if (ec == http::error::header_limit) {
        return api_error{http::status::request_header_fields_too_large,
                         error_type::invalid_request_error, "headers_too_large",
                         "The request headers are larger than this server accepts."};
    }
    if (is_http_parse_error(ec) && ec != http::error::end_of_stream &&
        ec != http::error::partial_message) {
        return invalid_request("", "malformed_request", "The request is not valid HTTP/1.1.");
    }
    return std::nullopt;
}

/// One log line per request (what a payment's request did is in it too) and its duration in
/// the metrics.
void record_request(const request_context& ctx, const request& req, const response& res,
                    std::chrono::steady_clock::time_point started) {
    auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    auto level = is_quiet_path(req.target()) ? spdlog::level::debug : spdlog::level::info;
    auto method = req.method_string();
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
                        {"remote", ctx.remote.address().to_string()}});
    } else {
        logging::write(level, "request",
                       {{"request_id", ctx.request_id},
                        {"method", verb},
                        {"path", ctx.path},
                        {"status", status},
                        {"payment_id", ctx.payment_id},
                        {"outcome", ctx.outcome},
                        {"duration_us", duration_us},
                        {"remote", ctx.remote.address().to_string()}});
    }
}

using tls_stream = beast::ssl_stream<beast::tcp_stream>;
using request_parser = http::request_parser<request_body>;

/// How reading one request went: the read's error, or the answer that refused it once its
/// headers were read (its body is then never read), and whether the headers named a client.
struct request_read {
    boost::system::error_code ec;
    std::optional<response> refused_early;
    bool authenticated = false;
};

/// Reads one request's headers, judges them (their limits, then the route's admission: a route
/// for clients refuses headers that name none before reading a byte of the body), answers
/// `Expect: 100-continue`, and reads the body.
asio::awaitable<request_read> read_request(tls_stream& stream, read_buffer& buffer,
                                           request_parser& parser, const request_context& ctx,
                                           const config::listen_settings& settings,
                                           const router& routes) {
    request_read read;
    std::size_t n = 0;
    std::tie(read.ec, n) = co_await http::async_read_header(stream, buffer, parser, use_nothrow);
    if (read.ec) {
        co_return read;
    }
    if (auto bad = header_refusal(parser.get(), settings.max_header_bytes)) {
        read.refused_early = render(*bad, ctx.request_id);
        co_return read;
    }
    auto admitted = routes.admit(parser.get(), ctx);
    read.authenticated = admitted.authenticated;
    if (admitted.refusal) {
        read.refused_early = std::move(admitted.refusal);
        co_return read;
    }
    if (parser.is_done()) {
        co_return read;
    }
    auto& lowest = beast::get_lowest_layer(stream);
    if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        http::response<http::empty_body> go_on{http::status::continue_, 11};
        lowest.expires_after(settings.write_timeout);
        std::tie(read.ec, n) = co_await http::async_write(stream, go_on, use_nothrow);
        lowest.expires_after(settings.read_timeout);
        if (read.ec) {
            co_return read;
        }
    }
    std::tie(read.ec, n) = co_await http::async_read(stream, buffer, parser, use_nothrow);
    co_return read;
}

/// What a verified client certificate (listen.tls.client_ca) says: whether there is one, and
/// its sole common name, which may name the API client.
struct client_certificate {
    bool present = false;
    std::string common_name;
};

/// The TLS handshake, within handshake_timeout; nullopt when it failed.
asio::awaitable<std::optional<client_certificate>> handshake(
    tls_stream& stream, const tcp::endpoint& remote, const config::listen_settings& settings) {
    beast::get_lowest_layer(stream).expires_after(settings.handshake_timeout);
    if (auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_nothrow);
        ec) {
        logging::debug("TLS handshake failed",
                       {{"remote", remote.address().to_string()}, {"error", ec.message()}});
        co_return std::nullopt;
    }
    client_certificate certificate;
    if (X509* presented = SSL_get0_peer_certificate(stream.native_handle())) {
        certificate.present = true;
        certificate.common_name = sole_common_name(presented);
    }
    co_return certificate;
}

/// Waits for the first byte of the next request: an idle keep-alive connection may wait
/// idle_timeout, one that no client has used yet only unauthenticated_idle_timeout (`idle` is
/// set meanwhile, for a drain to close it). False when the connection ended instead.
asio::awaitable<bool> await_request(tls_stream& stream, read_buffer& buffer, bool& idle, bool first,
                                    bool authenticated, const config::listen_settings& settings) {
    if (buffer.size() > 0) {
        co_return true;  // pipelined: the next request has begun already
    }
    idle = !first;
    const auto between = first ? settings.read_timeout : settings.idle_timeout;
    beast::get_lowest_layer(stream).expires_after(
        authenticated ? between : std::min(between, settings.unauthenticated_idle_timeout));
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_nothrow);
    idle = false;
    if (ec) {
        co_return false;
    }
    buffer.commit(n);
    co_return true;
}

/// Writes the answer within write_timeout. After a request whose body was never read (refused
/// early, or a read that failed) the client may still be sending it: closing at once would
/// answer its bytes with a TCP reset that can destroy the response before the client reads it,
/// so what still arrives is read away, briefly. False when the connection is to be closed.
asio::awaitable<bool> send_response(tls_stream& stream, response& res, const request_context& ctx,
                                    bool keep_alive, bool body_unread,
                                    const config::listen_settings& settings) {
    auto& lowest = beast::get_lowest_layer(stream);
    res.set("Request-Id", ctx.request_id);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    lowest.expires_after(settings.write_timeout);
    auto [ec, written] = co_await http::async_write(stream, res, use_nothrow);
    if (ec == beast::error::timeout) {
        logging::info(
            "client did not take its response within write_timeout_ms; dropped",
            {{"request_id", ctx.request_id}, {"remote", ctx.remote.address().to_string()}});
    }
    if (!ec && body_unread) {
        co_await discard_input(stream, lowest);
    }
    co_return !ec && keep_alive;
}

}  // namespace

struct http_server::connection {
    asio::any_io_executor executor;
    beast::tcp_stream* stream = nullptr;  // valid while the session runs, touched on its strand
    bool idle = false;
};

/// Counts a connection in (drain and close find it), and out again when it ends, giving back
/// the slot its address was counted under (take_address_slot).
struct http_server::connection_slot {
    connection_slot(shared_state& state, std::shared_ptr<connection> conn,
                    asio::ip::address address)
        : state_(state), conn_(std::move(conn)), address_(std::move(address)) {
        ++state_.open;
        std::lock_guard lock(state_.connections_mutex);
        std::erase_if(state_.connections, [](const auto& weak) { return weak.expired(); });
        state_.connections.push_back(conn_);
    }
    ~connection_slot() {
        conn_->stream = nullptr;
        --state_.open;
        std::lock_guard lock(state_.connections_mutex);
        if (auto it = state_.per_address.find(address_);
            it != state_.per_address.end() && --it->second == 0) {
            state_.per_address.erase(it);
        }
    }
    connection_slot(const connection_slot&) = delete;
    connection_slot& operator=(const connection_slot&) = delete;

  private:
    shared_state& state_;
    std::shared_ptr<connection> conn_;
    asio::ip::address address_;
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
    auto conn = std::make_shared<connection>();
    conn->executor = socket.get_executor();
    connection_slot slot(*state, conn, peer);
    boost::system::error_code ignored;
    tcp::endpoint remote = socket.remote_endpoint(ignored);
    auto tls_context = tls_.current();  // kept for this connection's life: SIGHUP swaps safely
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls_context);
    auto& lowest = beast::get_lowest_layer(stream);
    conn->stream = &lowest;

    auto peer_certificate = co_await handshake(stream, remote, settings_);
    if (!peer_certificate) {
        co_return;
    }

    read_buffer buffer;
    bool first = true;
    bool authenticated = false;  // some request on this connection named a client
    for (;;) {
        if (state->draining) {
            break;
        }
        if (!co_await await_request(stream, buffer, conn->idle, first, authenticated, settings_)) {
            break;  // closed, timed out, or cancelled by a drain
        }
        first = false;
        lowest.expires_after(settings_.read_timeout);

        request_parser parser;
        parser.header_limit(static_cast<std::uint32_t>(settings_.max_header_bytes));
        parser.body_limit(settings_.max_body_bytes);
        request_context ctx;
        ctx.remote = remote;
        ctx.client_certificate = peer_certificate->present;
        ctx.client_certificate_cn = peer_certificate->common_name;
        ctx.request_id = model::new_id("req");
        auto started = std::chrono::steady_clock::now();
        auto [ec, refused_early, admitted] =
            co_await read_request(stream, buffer, parser, ctx, settings_, routes_);
        authenticated = authenticated || admitted;

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
            auto answer = answer_to_read_error(ec);
            if (!answer) {
                wipe_read_buffer(buffer);
                break;  // the client went away or was too slow: nobody to answer
            }
            res = render(*answer, ctx.request_id);
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
            record_request(ctx, req, res, started);
            wipe_request(req);
        }
        wipe_read_buffer(buffer);

        const bool body_unread = ec || refused_early;
        if (!co_await send_response(stream, res, ctx, keep_alive, body_unread, settings_)) {
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
