#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "memory/wiping_allocator.hpp"

namespace billpay::https {

/// Where a request goes: from an https:// URL.
struct endpoint {
    std::string host;
    std::string port = "443";
    std::string target = "/";  // path and query

    /// Nullopt unless `url` is an absolute https URL.
    static std::optional<endpoint> parse(std::string_view url);
};

/// How far a request got before it failed. The difference decides what a failure means: a
/// request that was not sent did nothing at the server; one whose answer was lost may have.
enum class send_stage {
    completed,    // an answer came back (any HTTP status)
    not_sent,     // resolve, connect or TLS handshake failed: nothing reached the server
    answer_lost,  // the request was (or may have been) sent, and no complete answer came
};

/// Whether a request may be sent a second time, on a new connection, when it went out on a
/// kept-alive connection that turned out dead (the server closed it while idle) and not one byte
/// of the answer came back. Only the caller knows: a request with an idempotency key, a read,
/// or one the server refuses as a duplicate, may; anything else may not.
enum class resend { never, if_unanswered };

struct result {
    send_stage stage = send_stage::not_sent;
    boost::system::error_code error;
    int status = 0;
    boost::beast::http::fields headers;  // the answer's header fields, when completed
    std::string body;
};

/// The one outbound HTTPS client of billpayd (processor adapters and the receipts webhook):
/// Beast over OpenSSL, TLS 1.2+, SNI, certificate and host name verification against the system
/// store or a configured CA file, idle keep-alive connections reused per host, and one deadline
/// for the whole exchange (resolve, connect, handshake, write, read). No proxies.
class client {
  public:
    struct options {
        std::optional<std::filesystem::path> ca_file;  // trust only this CA (tests, private CAs)
        std::size_t max_idle_per_host = 16;
        /// An idle kept-alive connection is reused only this long: servers and load balancers
        /// close idle connections after a few seconds (Node and Apache: 5 s), and a request
        /// sent on one they closed would fail. Zero: every exchange on a new connection.
        std::chrono::milliseconds keep_alive{4'000};
    };

    client(boost::asio::any_io_executor executor, options opts);
    ~client();

    /// Request bodies may carry card data (a processor's tokenize call), and header fields a
    /// credential (Stripe's secret key as a Bearer token): both wipe every block they free.
    using request = boost::beast::http::request<
        boost::beast::http::basic_string_body<char, std::char_traits<char>,
                                              memory::wiping_allocator<char>>,
        boost::beast::http::basic_fields<memory::wiping_allocator<char>>>;

    /// Sends `req` (its Host header is set here) and reads the answer, all before `deadline`:
    /// the name lookup too (a resolver that hangs ends as not_sent at the deadline). An idle
    /// connection is reused only while it is younger than `keep_alive` and the server has not
    /// closed it; if the server closed it anyway while the request was on its way, and no byte
    /// of the answer came back, the request goes again once on a new connection when `again`
    /// allows it (and is reported not sent otherwise: it surely did nothing).
    boost::asio::awaitable<result> send(const endpoint& to, request& req,
                                        std::chrono::steady_clock::time_point deadline,
                                        resend again);

  private:
    struct connection;
    /// One exchange on `conn` (new when null); `reused` says it came from the pool.
    boost::asio::awaitable<result> exchange(const endpoint& to, request& req,
                                            std::chrono::steady_clock::time_point deadline,
                                            std::unique_ptr<connection> conn, bool& reused,
                                            bool& answer_began);
    std::unique_ptr<connection> take_idle(const std::string& key);
    void keep_idle(const std::string& key, std::unique_ptr<connection> c);

    boost::asio::any_io_executor executor_;
    options options_;
    boost::asio::ssl::context tls_;
    std::mutex mutex_;
    std::map<std::string, std::vector<std::unique_ptr<connection>>> idle_;
};

}  // namespace billpay::https
