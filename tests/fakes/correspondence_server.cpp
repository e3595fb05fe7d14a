#include "tests/fakes/correspondence_server.hpp"

#include <openssl/hmac.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/parse.hpp>
#include <ctime>

namespace billpay::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

}  // namespace

std::string receiver_hmac_hex(const std::string& secret, const std::string& data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out.push_back(hex[digest[i] >> 4]);
        out.push_back(hex[digest[i] & 0xf]);
    }
    return out;
}

struct correspondence_server::state {};

/// One connection to the fake.
struct fake_session {
    static asio::awaitable<void> serve(correspondence_server& server,
                                       beast::ssl_stream<beast::tcp_stream> stream) {
        auto [handshake_error] =
            co_await stream.async_handshake(asio::ssl::stream_base::server, use_nothrow);
        if (handshake_error) {
            co_return;
        }
        beast::flat_buffer buffer;
        for (;;) {
            http::request<http::string_body> req;
            auto [read_error, n] = co_await http::async_read(stream, buffer, req, use_nothrow);
            if (read_error) {
                co_return;
            }
            ++server.requests_;
            if (auto delay = server.delay_ms_.load(); delay > 0) {
                asio::steady_timer timer(stream.get_executor(), std::chrono::milliseconds(delay));
                co_await timer.async_wait(use_nothrow);
            }
            http::response<http::string_body> res{http::status::ok, 11};
            res.set(http::field::content_type, "application/json");
            auto mode = server.mode_.load();
            if (mode == correspondence_server::mode::hang) {
                asio::steady_timer forever(stream.get_executor(), std::chrono::hours(1));
                co_await forever.async_wait(use_nothrow);
                co_return;
            }
            if (!server.valid_request(req)) {
                ++server.bad_signatures_;
                res.result(http::status::bad_request);
                res.body() = R"({"error":"signature or request rejected"})";
            } else if (mode == correspondence_server::mode::fail) {
                res.result(http::status::internal_server_error);
                res.body() = R"({"error":"down"})";
            } else if (mode == correspondence_server::mode::reject) {
                res.result(http::status::bad_request);
                res.body() = R"({"error":"unknown account"})";
            } else {
                server.record(req);
                res.body() = R"({"received":true})";
            }
            res.keep_alive(req.keep_alive());
            res.prepare_payload();
            auto [write_error, w] = co_await http::async_write(stream, res, use_nothrow);
            if (write_error || !req.keep_alive()) {
                co_return;
            }
        }
    }
};

correspondence_server::correspondence_server(tls_files certificate, std::string signing_secret)
    : state_(std::make_shared<state>()),
      certificate_(std::move(certificate)),
      secret_(std::move(signing_secret)) {
    start();
}

correspondence_server::~correspondence_server() { stop(); }

std::string correspondence_server::url() const {
    return "https://localhost:" + std::to_string(port_) + "/receipts";
}

void correspondence_server::start() {
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
                    fake_session::serve(*this, beast::ssl_stream<beast::tcp_stream>(
                                                   beast::tcp_stream(std::move(socket)), *tls_)),
                    asio::detached);
            }
        },
        asio::detached);
    thread_ = std::thread([this] { ioc_->run(); });
}

void correspondence_server::stop() {
    if (!ioc_) {
        return;
    }
    ioc_->stop();
    thread_.join();
    acceptor_.reset();
    ioc_.reset();  // destroys every session, closing its connection
    tls_.reset();
}

bool correspondence_server::valid_request(const http::request<http::string_body>& req) {
    if (req.method() != http::verb::post || req[http::field::content_type] != "application/json" ||
        req["Idempotency-Key"].empty()) {
        return false;
    }
    std::string header(req["Billpay-Signature"]);
    auto t_at = header.find("t=");
    auto v_at = header.find(",v1=");
    if (t_at != 0 || v_at == std::string::npos) {
        return false;
    }
    std::string t = header.substr(2, v_at - 2);
    std::string v1 = header.substr(v_at + 4);
    long long timestamp = 0;
    try {
        timestamp = std::stoll(t);
    } catch (...) {
        return false;
    }
    if (std::llabs(static_cast<long long>(std::time(nullptr)) - timestamp) > 300) {
        return false;  // stale: a replayed capture
    }
    if (receiver_hmac_hex(secret_, t + "." + req.body()) != v1) {
        return false;
    }
    // The id in the body is the Idempotency-Key.
    boost::system::error_code ec;
    auto body = boost::json::parse(req.body(), ec);
    return !ec && body.is_object() && body.as_object().contains("id") &&
           body.at("id").as_string() == std::string(req["Idempotency-Key"]);
}

void correspondence_server::record(const http::request<http::string_body>& req) {
    std::lock_guard lock(mutex_);
    std::string id(req["Idempotency-Key"]);
    ++accepted_[id];
    auto [it, inserted] = bodies_.emplace(id, req.body());
    if (!inserted && it->second != req.body()) {
        conflicts_.insert(id);
    }
}

std::map<std::string, int> correspondence_server::accepted() const {
    std::lock_guard lock(mutex_);
    return accepted_;
}

std::map<std::string, std::string> correspondence_server::bodies() const {
    std::lock_guard lock(mutex_);
    return bodies_;
}

std::set<std::string> correspondence_server::conflicting_ids() const {
    std::lock_guard lock(mutex_);
    return conflicts_;
}

bool correspondence_server::wait_for_distinct(std::size_t n,
                                              std::chrono::milliseconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        {
            std::lock_guard lock(mutex_);
            if (accepted_.size() >= n) {
                return true;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

}  // namespace billpay::test
