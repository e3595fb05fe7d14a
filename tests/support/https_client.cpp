#include "tests/support/https_client.hpp"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <vector>

namespace billpay::test {

namespace asio = boost::asio;
namespace beast = boost::beast;

https_client::https_client(unsigned short port, client_tls tls)
    : port_(port),
      ctx_(asio::ssl::context::tls_client),
      receive_buffer_bytes_(tls.receive_buffer_bytes) {
    if (tls.min_version) {
        SSL_CTX_set_min_proto_version(ctx_.native_handle(), tls.min_version);
        // OpenSSL 3 forbids TLS 1.1 at its default security level; lower it so the refusal
        // the test sees is the server's, not our own client's.
        SSL_CTX_set_security_level(ctx_.native_handle(), 0);
    }
    if (tls.max_version) {
        SSL_CTX_set_max_proto_version(ctx_.native_handle(), tls.max_version);
    }
    if (!tls.tls12_ciphers.empty()) {
        SSL_CTX_set_security_level(ctx_.native_handle(), 0);
        SSL_CTX_set_cipher_list(ctx_.native_handle(), tls.tls12_ciphers.c_str());
    }
    if (tls.client_certificate) {
        ctx_.use_certificate_chain_file(tls.client_certificate->certificate.string());
        ctx_.use_private_key_file(tls.client_certificate->key.string(), asio::ssl::context::pem);
    }
    if (tls.trusted_ca) {
        ctx_.load_verify_file(tls.trusted_ca->string());
        ctx_.set_verify_mode(asio::ssl::verify_peer);
    } else {
        ctx_.set_verify_mode(asio::ssl::verify_none);
    }
}

boost::system::error_code https_client::connect() {
    stream_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc_, ctx_);
    reconnect_ = false;
    buffer_.clear();
    auto& tcp = beast::get_lowest_layer(*stream_);
    boost::system::error_code ec;
    if (receive_buffer_bytes_ > 0) {
        tcp.socket().open(asio::ip::tcp::v4(), ec);
        tcp.socket().set_option(asio::socket_base::receive_buffer_size(receive_buffer_bytes_), ec);
    }
    tcp.socket().connect({asio::ip::make_address("127.0.0.1"), port_}, ec);
    if (ec) {
        return ec;
    }
    SSL_set_tlsext_host_name(stream_->native_handle(), "localhost");
    if (resume_) {
        SSL_set_session(stream_->native_handle(), resume_.get());
    }
    stream_->handshake(asio::ssl::stream_base::client, ec);
    return ec;
}

namespace {

/// With BILLPAY_CONTRACT_LOG set (CTest sets it for the e2e tests), every response billpayd
/// gives is written there as a JSON line, which tests/openapi/check-responses.mjs checks
/// against docs/openapi.yaml once the tests have run (CTest openapi_responses).
void record_for_contract(http::verb method, const std::string& target, const http_response& res) {
    const char* dir = std::getenv("BILLPAY_CONTRACT_LOG");
    if (dir == nullptr || *dir == '\0') {
        return;
    }
    static std::mutex mutex;
    const boost::json::object line{{"method", std::string(http::to_string(method))},
                                   {"target", target},
                                   {"status", res.result_int()},
                                   {"content_type", std::string(res[http::field::content_type])},
                                   {"request_id", std::string(res["Request-Id"])},
                                   {"body", res.body()}};
    std::lock_guard lock(mutex);
    std::ofstream out(std::string(dir) + "/responses-" + std::to_string(::getpid()) + ".jsonl",
                      std::ios::app);
    out << boost::json::serialize(line) << '\n';
}

}  // namespace

http_response https_client::request(http::verb method, const std::string& target,
                                    const std::string& body,
                                    const std::map<std::string, std::string>& headers) {
    if (!stream_ || reconnect_) {
        if (auto ec = connect()) {
            throw boost::system::system_error(ec, "connect");
        }
    }
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "localhost");
    for (const auto& [name, value] : headers) {
        req.set(name, value);
    }
    if (!body.empty() || method == http::verb::post) {
        req.body() = body;
        if (req[http::field::content_type].empty()) {
            req.set(http::field::content_type, "application/json");
        }
    }
    req.prepare_payload();
    http::write(*stream_, req);
    auto [ec, res] = read_response();
    if (ec) {
        throw boost::system::system_error(ec, "read response");
    }
    // The server said it closes: the next request connects anew (the old stream stays, so a
    // test can still watch the server hang up).
    reconnect_ = !res.keep_alive();
    record_for_contract(method, target, res);
    return res;
}

boost::system::error_code https_client::write_raw(const std::string& bytes) {
    boost::system::error_code ec;
    asio::write(*stream_, asio::buffer(bytes), ec);
    return ec;
}

std::pair<boost::system::error_code, http_response> https_client::read_response(
    std::chrono::milliseconds timeout) {
    beast::get_lowest_layer(*stream_).expires_after(timeout);
    http_response res;
    boost::system::error_code ec;
    // A blocking read cannot time out on its own; run the async form with the stream's timer.
    http::async_read(*stream_, buffer_, res, [&](auto e, std::size_t) { ec = e; });
    ioc_.restart();
    ioc_.run();
    beast::get_lowest_layer(*stream_).expires_never();
    return {ec, std::move(res)};
}

std::size_t https_client::read_raw(std::size_t max, std::chrono::milliseconds timeout) {
    std::vector<char> bytes(max);
    beast::get_lowest_layer(*stream_).expires_after(timeout);
    boost::system::error_code ec;
    std::size_t got = 0;
    stream_->async_read_some(asio::buffer(bytes), [&](auto e, std::size_t n) {
        ec = e;
        got = n;
    });
    ioc_.restart();
    ioc_.run();
    return ec ? 0 : got;
}

bool https_client::peer_hung_up() {
    pollfd watched{beast::get_lowest_layer(*stream_).socket().native_handle(), POLLRDHUP, 0};
    return ::poll(&watched, 1, 0) == 1 && (watched.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

bool https_client::closed_by_server_within(std::chrono::milliseconds timeout) {
    // Wait with poll(): a stream timeout would close the connection itself, and a test may
    // want to use a connection that stayed open.
    pollfd watched{beast::get_lowest_layer(*stream_).socket().native_handle(), POLLIN, 0};
    if (::poll(&watched, 1, static_cast<int>(timeout.count())) == 0) {
        return false;
    }
    beast::get_lowest_layer(*stream_).expires_after(timeout);
    boost::system::error_code ec;
    char byte;
    stream_->async_read_some(asio::buffer(&byte, 1), [&](auto e, std::size_t) { ec = e; });
    ioc_.restart();
    ioc_.run();
    return ec && ec != beast::error::timeout;
}

std::string https_client::server_certificate_fingerprint() {
    X509* cert = SSL_get1_peer_certificate(stream_->native_handle());
    if (!cert) {
        return {};
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    X509_digest(cert, EVP_sha256(), md, &len);
    X509_free(cert);
    std::string out = "sha256 Fingerprint=";
    char hex[4];
    for (unsigned int i = 0; i < len; ++i) {
        std::snprintf(hex, sizeof hex, "%02X", md[i]);
        out += hex;
        if (i + 1 < len) {
            out += ':';
        }
    }
    return out + "\n";
}

std::string https_client::protocol() { return SSL_get_version(stream_->native_handle()); }

std::shared_ptr<SSL_SESSION> https_client::session() {
    return {SSL_get1_session(stream_->native_handle()), SSL_SESSION_free};
}

bool https_client::resumed() { return SSL_session_reused(stream_->native_handle()) == 1; }

boost::json::value json_of(const http_response& response) {
    boost::system::error_code ec;
    auto value = boost::json::parse(response.body(), ec);
    if (ec) {
        return boost::json::value(nullptr);
    }
    return value;
}

}  // namespace billpay::test
