#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "tests/support/tls_files.hpp"

namespace billpay::test {

namespace http = boost::beast::http;
using http_response = http::response<http::string_body>;

/// How a test client speaks TLS. By default: any TLS 1.2+ server, certificate not checked.
struct client_tls {
    int min_version = 0;  // e.g. TLS1_1_VERSION; 0 = OpenSSL's default
    int max_version = 0;
    std::string tls12_ciphers;  // empty = OpenSSL's default
    std::optional<tls_files> client_certificate;
    std::optional<std::filesystem::path> trusted_ca;  // set: verify the server against it
    int receive_buffer_bytes = 0;  // SO_RCVBUF before connecting (a slow reader); 0: default
};

/// A blocking HTTPS/1.1 client over real TLS, one connection, reused while the server keeps it
/// alive. For tests only.
class https_client {
  public:
    explicit https_client(unsigned short port, client_tls tls = {});

    /// Connects and does the TLS handshake; returns the error, if any.
    boost::system::error_code connect();

    /// Sends one request (connecting first if needed) and reads the response.
    http_response request(http::verb method, const std::string& target,
                          const std::string& body = {},
                          const std::map<std::string, std::string>& headers = {});

    /// Writes raw bytes on the open TLS connection (for slow or malformed clients).
    boost::system::error_code write_raw(const std::string& bytes);

    /// Reads up to `max` decrypted bytes as they come, waiting at most `timeout`; 0 when the
    /// server closed the connection (or nothing came in time).
    std::size_t read_raw(std::size_t max, std::chrono::milliseconds timeout);

    /// Reads one response from the open connection, waiting at most `timeout`.
    std::pair<boost::system::error_code, http_response> read_response(
        std::chrono::milliseconds timeout = std::chrono::seconds(10));

    /// Whether the server has closed its side (a FIN or reset arrived), looked at without
    /// reading: bytes not yet read (a TLS ticket) do not hide it.
    bool peer_hung_up();

    /// True when the server has closed the connection (a read returns end of stream or reset)
    /// within `timeout`.
    bool closed_by_server_within(std::chrono::milliseconds timeout);

    /// The SHA-256 fingerprint of the certificate the server presented, in openssl's format.
    std::string server_certificate_fingerprint();

    /// The negotiated protocol version, e.g. "TLSv1.3".
    std::string protocol();

    /// The TLS session of the open connection (after a response, so that TLS 1.3 tickets have
    /// arrived), for another client to resume.
    std::shared_ptr<SSL_SESSION> session();
    /// The next connection offers to resume `session`.
    void resume(std::shared_ptr<SSL_SESSION> session) { resume_ = std::move(session); }
    /// Whether the open connection resumed a session (no full handshake).
    bool resumed();

  private:
    unsigned short port_;
    boost::asio::io_context ioc_;
    boost::asio::ssl::context ctx_;
    std::unique_ptr<boost::beast::ssl_stream<boost::beast::tcp_stream>> stream_;
    boost::beast::flat_buffer buffer_;
    bool reconnect_ = false;  // the server announced it closes this connection
    std::shared_ptr<SSL_SESSION> resume_;
    int receive_buffer_bytes_ = 0;
};

/// Parses a response body as JSON (fails the test's expectation with a readable message).
boost::json::value json_of(const http_response& response);

}  // namespace billpay::test
