// The real billpayd binary over real TLS: health, routing errors, request ids, limits, deadlines,
// TLS versions and ciphers, client certificates.
#include <gmock/gmock.h>
#include <openssl/ssl.h>

#include <set>
#include <thread>

#include "tests/e2e/daemon_fixture.hpp"

namespace {

using namespace billpay::test;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

class Server : public daemon_fixture {};

TEST_F(Server, HealthzAndReadyzAnswer) {
    start();
    auto c = client();
    auto health = c.request(http::verb::get, "/healthz");
    EXPECT_EQ(health.result(), http::status::ok);
    EXPECT_EQ(json_of(health).at("status"), "ok");
    auto ready = c.request(http::verb::get, "/readyz");
    EXPECT_EQ(ready.result(), http::status::ok);
    EXPECT_EQ(json_of(ready).at("status"), "ready");
    EXPECT_EQ(json_of(ready).at("database"), "ok");
    EXPECT_EQ(ready[http::field::content_type], "application/json");
}

TEST_F(Server, UnknownPathsAre404AndWrongMethods405InTheErrorShape) {
    start();
    auto c = client();
    auto missing = c.request(http::verb::get, "/v1/nothing-here");
    EXPECT_EQ(missing.result(), http::status::not_found);
    auto error = json_of(missing).at("error");
    EXPECT_EQ(error.at("type"), "invalid_request_error");
    EXPECT_EQ(error.at("code"), "resource_missing");
    EXPECT_EQ(error.at("request_id"), missing["Request-Id"]);

    auto wrong = c.request(http::verb::delete_, "/healthz");
    EXPECT_EQ(wrong.result(), http::status::method_not_allowed);
    EXPECT_EQ(wrong[http::field::allow], "GET");
    EXPECT_EQ(json_of(wrong).at("error").at("code"), "method_not_allowed");
}

TEST_F(Server, EveryResponseCarriesItsOwnRequestIdOverOneKeptAliveConnection) {
    start();
    auto c = client();
    std::set<std::string> ids;
    for (int i = 0; i < 20; ++i) {
        auto res = c.request(http::verb::get, i % 2 ? "/healthz" : "/nope");
        EXPECT_TRUE(res.keep_alive());
        std::string id(res["Request-Id"]);
        EXPECT_THAT(id, ::testing::StartsWith("req_"));
        ids.insert(id);
    }
    EXPECT_EQ(ids.size(), 20u);
    // The request id is in the log line of that request, so an operator can find it.
    EXPECT_NE(daemon->log().find(*ids.begin()), std::string::npos);
}

TEST_F(Server, AnOversizeBodyIs413AndTheResponseArrives) {
    config.extra_listen = "  max_body_bytes: 4096\n";
    start();
    auto c = client();
    auto res = c.request(http::verb::post, "/healthz", std::string(100'000, 'x'));
    EXPECT_EQ(res.result(), http::status::payload_too_large);
    EXPECT_EQ(json_of(res).at("error").at("code"), "body_too_large");
    EXPECT_FALSE(res.keep_alive());
    EXPECT_FALSE(res["Request-Id"].empty());
}

TEST_F(Server, OversizeHeadersAre431) {
    config.extra_listen = "  max_header_bytes: 2048\n";
    start();
    auto c = client();
    auto res = c.request(http::verb::get, "/healthz", "", {{"X-Padding", std::string(4000, 'a')}});
    EXPECT_EQ(res.result(), http::status::request_header_fields_too_large);
    EXPECT_EQ(json_of(res).at("error").at("code"), "headers_too_large");
}

TEST_F(Server, MalformedHttpIs400) {
    start();
    auto c = client();
    ASSERT_FALSE(c.connect());
    ASSERT_FALSE(c.write_raw("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"));
    auto [ec, res] = c.read_response();
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(res.result(), http::status::bad_request);
    EXPECT_EQ(json_of(res).at("error").at("code"), "malformed_request");
}

TEST_F(Server, ASlowClientIsDroppedAtTheReadDeadline) {
    start();  // read_timeout_ms: 2000 in the test config
    auto c = client();
    ASSERT_FALSE(c.connect());
    auto started = std::chrono::steady_clock::now();
    ASSERT_FALSE(c.write_raw("GET /healthz HTTP/1.1\r\nHost: loc"));  // and then nothing
    EXPECT_TRUE(c.closed_by_server_within(6s));
    auto waited = std::chrono::steady_clock::now() - started;
    EXPECT_GE(waited, 1500ms);  // not before the deadline...
    EXPECT_LT(waited, 5s);      // ...and not much after it
}

TEST_F(Server, AClientThatNeverStartsTlsIsDropped) {
    config.extra_listen = "  handshake_timeout_ms: 500\n";
    start();
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::socket raw(ioc);
    raw.connect({boost::asio::ip::make_address("127.0.0.1"), daemon->port()});
    char byte;
    boost::system::error_code ec;
    auto started = std::chrono::steady_clock::now();
    raw.read_some(boost::asio::buffer(&byte, 1), ec);  // blocks until the server hangs up
    EXPECT_TRUE(ec);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST_F(Server, TlsOneDotOneIsRefused) {
    start();
    auto c = client({.min_version = TLS1_1_VERSION, .max_version = TLS1_1_VERSION});
    EXPECT_TRUE(c.connect());
}

TEST_F(Server, TlsOneDotTwoAndOneDotThreeAreAccepted) {
    start();
    auto v12 = client({.max_version = TLS1_2_VERSION});
    ASSERT_FALSE(v12.connect());
    EXPECT_EQ(v12.protocol(), "TLSv1.2");
    auto v13 = client({.min_version = TLS1_3_VERSION});
    ASSERT_FALSE(v13.connect());
    EXPECT_EQ(v13.protocol(), "TLSv1.3");
}

TEST_F(Server, CiphersOutsideMozillaIntermediateAreRefused) {
    start();
    // CBC suites are not in the intermediate list. Each works with this server's EC key, and
    // an OpenSSL server that allowed them would agree to it (`openssl s_server -cipher ALL`
    // does): only billpayd's policy refuses them. The client allows anything (SECLEVEL=0).
    for (std::string cipher :
         {"ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-ECDSA-AES128-SHA256"}) {
        auto c = client({.max_version = TLS1_2_VERSION, .tls12_ciphers = cipher + ":@SECLEVEL=0"});
        auto ec = c.connect();
        ASSERT_TRUE(ec) << cipher << " was accepted";
        EXPECT_EQ(ec.category(), boost::asio::error::get_ssl_category()) << ec.message();
        EXPECT_EQ(ERR_GET_REASON(ec.value()), SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE)
            << cipher << ": " << ec.message();
    }
    auto good =
        client({.max_version = TLS1_2_VERSION, .tls12_ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256"});
    EXPECT_FALSE(good.connect());
}

TEST_F(Server, TheServerCertificateVerifiesAgainstItsCa) {
    start();
    auto c = client({.trusted_ca = ca.certificate});
    EXPECT_FALSE(c.connect());
    EXPECT_EQ(c.request(http::verb::get, "/healthz").result(), http::status::ok);
}

TEST_F(Server, SessionTicketKeysAreRotatedOnSchedule) {
    config.extra_tls = "    ticket_key_rotation_ms: 1000\n";
    start();
    for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
        client_tls tls{.min_version = version, .max_version = version};
        https_client first(daemon->port(), tls);
        ASSERT_EQ(first.request(http::verb::get, "/healthz").result(), http::status::ok);
        auto session = first.session();
        auto started = std::chrono::steady_clock::now();

        https_client soon(daemon->port(), tls);
        soon.resume(session);
        ASSERT_FALSE(soon.connect());
        EXPECT_TRUE(soon.resumed()) << version;

        // Past two periods the key that sealed the ticket is gone: a full handshake, which
        // works as ever.
        std::this_thread::sleep_until(started + 2500ms);
        https_client late(daemon->port(), tls);
        late.resume(session);
        ASSERT_FALSE(late.connect());
        EXPECT_FALSE(late.resumed()) << version;
        EXPECT_EQ(late.request(http::verb::get, "/healthz").result(), http::status::ok);
    }
}

class ClientCertificates : public daemon_fixture {
  protected:
    void SetUp() override {
        daemon_fixture::SetUp();
        config.client_ca = ca.certificate;
        start();
    }
};

/// The reason OpenSSL gives for the TLS alert that refused a request (0: it was answered; -1:
/// it failed some other way). With TLS 1.3 the refusal arrives after the client's side of the
/// handshake, on first use.
int refusal_reason(https_client& c) {
    try {
        c.request(http::verb::get, "/healthz");
    } catch (const boost::system::system_error& e) {
        if (e.code().category() == boost::asio::error::get_ssl_category()) {
            return ERR_GET_REASON(e.code().value());
        }
        return -1;
    }
    return 0;
}

TEST_F(ClientCertificates, AClientWithoutACertificateIsRefused) {
    auto c = client();
    EXPECT_EQ(refusal_reason(c), SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED);
}

TEST_F(ClientCertificates, ACertificateFromTheConfiguredCaIsAccepted) {
    auto portal = make_certificate(dir.path(), "portal", "portal", ca);
    auto c = client({.client_certificate = portal});
    EXPECT_EQ(c.request(http::verb::get, "/healthz").result(), http::status::ok);
}

TEST_F(ClientCertificates, ACertificateFromAnotherCaIsRefused) {
    auto other_ca = make_ca(dir.path(), "other-ca");
    auto stranger = make_certificate(dir.path(), "stranger", "portal", other_ca);
    auto c = client({.client_certificate = stranger});
    EXPECT_EQ(refusal_reason(c), SSL_R_TLSV1_ALERT_UNKNOWN_CA);
}

}  // namespace
