#include "https/client.hpp"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <cerrno>
#include <memory>

namespace billpay::https {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

/// The peer closed the connection (an orderly close or a reset), as a server does to a
/// connection it kept idle too long: not a timeout, not an answer cut off halfway.
bool closed_by_peer(const boost::system::error_code& ec) {
    return ec == http::error::end_of_stream || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == asio::error::connection_aborted || ec == asio::ssl::error::stream_truncated;
}

}  // namespace

std::optional<endpoint> endpoint::parse(std::string_view url) {
    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed || parsed->scheme() != "https" || parsed->host().empty()) {
        return std::nullopt;
    }
    endpoint e;
    e.host = parsed->host();
    if (parsed->has_port()) {
        e.port = parsed->port();
    }
    e.target = parsed->encoded_path().empty() ? "/" : std::string(parsed->encoded_path());
    if (parsed->has_query()) {
        e.target += "?" + std::string(parsed->encoded_query());
    }
    return e;
}

struct client::connection {
    connection(asio::any_io_executor ex, asio::ssl::context& tls) : stream(ex, tls) {}
    /// Asio's TLS stream itself, not beast::ssl_stream: that one wraps a flat_stream, which
    /// copies every write of several buffers under 16 KB (a request's header and body) into a
    /// plain buffer of its own, kept while the connection idles and freed unwiped. A processor's
    /// tokenize body holds card data; here it goes from its wiping string straight into
    /// OpenSSL, which encrypts it in its own record buffer.
    asio::ssl::stream<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
    std::chrono::steady_clock::time_point idle_since;

    /// Whether the server has left this idle connection alone: nothing to read on it (a server
    /// that closes sends a FIN, or a TLS close_notify first), and nothing left in our buffer.
    [[nodiscard]] bool looks_open() {
        if (buffer.size() > 0) {
            return false;
        }
        auto& socket = beast::get_lowest_layer(stream).socket();
        if (!socket.is_open()) {
            return false;
        }
        char byte = 0;
        auto n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
};

client::client(asio::any_io_executor executor, options opts)
    : executor_(std::move(executor)),
      options_(std::move(opts)),
      tls_(asio::ssl::context::tls_client) {
    SSL_CTX_set_min_proto_version(tls_.native_handle(), TLS1_2_VERSION);
    // A processor request may carry card data: OpenSSL wipes its plaintext copies.
    SSL_CTX_set_options(tls_.native_handle(), SSL_OP_CLEANSE_PLAINTEXT | SSL_OP_NO_COMPRESSION);
    if (options_.ca_file) {
        tls_.load_verify_file(options_.ca_file->string());
    } else {
        tls_.set_default_verify_paths();
    }
    tls_.set_verify_mode(asio::ssl::verify_peer);
}

client::~client() = default;

std::unique_ptr<client::connection> client::take_idle(const std::string& key) {
    std::unique_ptr<connection> c;
    {
        std::lock_guard lock(mutex_);
        auto& pool = idle_[key];
        const auto now = std::chrono::steady_clock::now();
        while (!pool.empty()) {
            auto candidate = std::move(pool.back());
            pool.pop_back();
            // Too old (the server may close it any moment) or closed already: dropped.
            if (now - candidate->idle_since < options_.keep_alive && candidate->looks_open()) {
                c = std::move(candidate);
                break;
            }
        }
    }
    return c;
}

void client::keep_idle(const std::string& key, std::unique_ptr<connection> c) {
    if (options_.keep_alive.count() <= 0) {
        return;
    }
    c->idle_since = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    auto& pool = idle_[key];
    if (pool.size() < options_.max_idle_per_host) {
        pool.push_back(std::move(c));
    }
}

asio::awaitable<result> client::send(const endpoint& to, request& req,
                                     std::chrono::steady_clock::time_point deadline, resend again) {
    req.set(http::field::host, to.host);
    req.keep_alive(true);
    req.prepare_payload();
    const std::string key = to.host + ":" + to.port;
    bool reused = false;
    bool answer_began = false;
    auto pooled = take_idle(key);
    auto outcome = co_await exchange(to, req, deadline, std::move(pooled), reused, answer_began);
    if (reused && outcome.stage == send_stage::answer_lost && !answer_began &&
        closed_by_peer(outcome.error) && again == resend::if_unanswered) {
        // The kept-alive connection was dead (closed by the server between our look and our
        // request: a FIN or a reset, not a timeout): the server was not reading it. Once more,
        // on a new connection. Should that not complete either, the first failure stands:
        // possibly sent, never "not sent".
        bool fresh = false;
        std::unique_ptr<connection> none;
        auto second = co_await exchange(to, req, deadline, std::move(none), fresh, answer_began);
        if (second.stage == send_stage::completed || second.stage == send_stage::answer_lost) {
            outcome = std::move(second);
        }
    }
    co_return outcome;
}

asio::awaitable<result> client::exchange(const endpoint& to, request& req,
                                         std::chrono::steady_clock::time_point deadline,
                                         std::unique_ptr<connection> conn, bool& reused,
                                         bool& answer_began) {
    const std::string key = to.host + ":" + to.port;
    result outcome;
    // The request goes out whole, or not at all, on each attempt: it is serialized afresh.
    reused = conn != nullptr;
    answer_began = false;
    if (!conn) {
        conn = std::make_unique<connection>(executor_, tls_);
        auto& tcp = beast::get_lowest_layer(conn->stream);
        // The name lookup has the exchange's deadline too: a resolver that hangs must not hold
        // a payment past it. (Asio's resolver has no per-operation cancellation; cancel() ends
        // its lookups, and the timer's handler keeps the resolver alive by itself.)
        auto resolver = std::make_shared<asio::ip::tcp::resolver>(executor_);
        asio::steady_timer resolve_deadline(executor_, deadline);
        resolve_deadline.async_wait([resolver](const boost::system::error_code& ec) {
            if (!ec) {
                resolver->cancel();
            }
        });
        auto [resolve_error, endpoints] =
            co_await resolver->async_resolve(to.host, to.port, use_nothrow);
        resolve_deadline.cancel();
        if (resolve_error) {
            outcome.error = resolve_error == asio::error::operation_aborted
                                ? boost::system::error_code(asio::error::timed_out)
                                : resolve_error;
            co_return outcome;
        }
        tcp.expires_at(deadline);
        auto [connect_error, connected] = co_await tcp.async_connect(endpoints, use_nothrow);
        if (connect_error) {
            outcome.error = connect_error;
            co_return outcome;
        }
        // SNI, and the certificate must name the host we asked for.
        SSL_set_tlsext_host_name(conn->stream.native_handle(), to.host.c_str());
        SSL_set1_host(conn->stream.native_handle(), to.host.c_str());
        tcp.expires_at(deadline);
        auto [handshake_error] =
            co_await conn->stream.async_handshake(asio::ssl::stream_base::client, use_nothrow);
        if (handshake_error) {
            outcome.error = handshake_error;
            co_return outcome;
        }
    }
    auto& tcp = beast::get_lowest_layer(conn->stream);
    tcp.expires_at(deadline);
    auto [write_error, written] = co_await http::async_write(conn->stream, req, use_nothrow);
    http::response_parser<http::string_body> parser;
    parser.body_limit(16 * 1024 * 1024);
    boost::system::error_code read_error;
    if (!write_error) {
        std::size_t read = 0;
        std::tie(read_error, read) =
            co_await http::async_read(conn->stream, conn->buffer, parser, use_nothrow);
    }
    if (write_error || read_error) {
        // Possibly sent: the caller decides what that means, knowing whether its request is
        // idempotent. Whether any of the answer came tells a dead kept-alive connection (the
        // server closed it while idle: nothing came) from an answer cut off.
        answer_began = parser.got_some() || conn->buffer.size() > 0;
        outcome.stage = send_stage::answer_lost;
        outcome.error = write_error ? write_error : read_error;
        co_return outcome;
    }
    auto res = parser.release();
    outcome.stage = send_stage::completed;
    outcome.status = static_cast<int>(res.result_int());
    outcome.body = std::move(res.body());
    outcome.headers = res.base();
    if (res.keep_alive() && conn->buffer.size() == 0) {
        tcp.expires_never();
        keep_idle(key, std::move(conn));
    }
    co_return outcome;
}

}  // namespace billpay::https
