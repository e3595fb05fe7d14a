#include "gateway_adapters/https_client.hpp"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>

namespace billpay::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

}  // namespace

std::optional<https_endpoint> https_endpoint::parse(std::string_view url) {
    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed || parsed->scheme() != "https" || parsed->host().empty()) {
        return std::nullopt;
    }
    https_endpoint e;
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

struct https_client::connection {
    connection(asio::any_io_executor ex, asio::ssl::context& tls) : stream(ex, tls) {}
    beast::ssl_stream<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
};

https_client::https_client(asio::any_io_executor executor, options opts)
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

https_client::~https_client() = default;

std::unique_ptr<https_client::connection> https_client::take_idle(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto& pool = idle_[key];
    if (pool.empty()) {
        return nullptr;
    }
    auto c = std::move(pool.back());
    pool.pop_back();
    return c;
}

void https_client::keep_idle(const std::string& key, std::unique_ptr<connection> c) {
    std::lock_guard lock(mutex_);
    auto& pool = idle_[key];
    if (pool.size() < options_.max_idle_per_host) {
        pool.push_back(std::move(c));
    }
}

asio::awaitable<https_result> https_client::send(const https_endpoint& to, request& req,
                                                 std::chrono::steady_clock::time_point deadline) {
    const std::string key = to.host + ":" + to.port;
    req.set(http::field::host, to.host);
    req.keep_alive(true);
    req.prepare_payload();

    https_result result;
    auto conn = take_idle(key);
    if (!conn) {
        conn = std::make_unique<connection>(executor_, tls_);
        auto& tcp = beast::get_lowest_layer(conn->stream);
        asio::ip::tcp::resolver resolver(executor_);
        auto [resolve_error, endpoints] =
            co_await resolver.async_resolve(to.host, to.port, use_nothrow);
        if (resolve_error) {
            result.error = resolve_error;
            co_return result;
        }
        tcp.expires_at(deadline);
        auto [connect_error, connected] = co_await tcp.async_connect(endpoints, use_nothrow);
        if (connect_error) {
            result.error = connect_error;
            co_return result;
        }
        // SNI, and the certificate must name the host we asked for.
        SSL_set_tlsext_host_name(conn->stream.native_handle(), to.host.c_str());
        SSL_set1_host(conn->stream.native_handle(), to.host.c_str());
        tcp.expires_at(deadline);
        auto [handshake_error] =
            co_await conn->stream.async_handshake(asio::ssl::stream_base::client, use_nothrow);
        if (handshake_error) {
            result.error = handshake_error;
            co_return result;
        }
    }
    auto& tcp = beast::get_lowest_layer(conn->stream);
    tcp.expires_at(deadline);
    auto [write_error, written] = co_await http::async_write(conn->stream, req, use_nothrow);
    http::response<http::string_body> res;
    boost::system::error_code read_error;
    if (!write_error) {
        std::size_t read = 0;
        std::tie(read_error, read) =
            co_await http::async_read(conn->stream, conn->buffer, res, use_nothrow);
    }
    if (write_error || read_error) {
        // A kept-alive connection the server closed meanwhile fails at once, before the server
        // can have acted; it is still reported as possibly sent: the caller decides, knowing
        // whether its request is idempotent.
        result.stage = send_stage::answer_lost;
        result.error = write_error ? write_error : read_error;
        co_return result;
    }
    result.stage = send_stage::completed;
    result.status = static_cast<int>(res.result_int());
    result.body = std::move(res.body());
    if (res.keep_alive()) {
        tcp.expires_never();
        keep_idle(key, std::move(conn));
    }
    co_return result;
}

}  // namespace billpay::gateway
