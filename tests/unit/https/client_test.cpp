// The outbound HTTPS client against a loopback TLS server: kept-alive connections the server
// closed are never a failure, and a request goes again only when its caller says it may.
#include "https/client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <thread>

#include "tests/fakes/fake_https_server.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tls_files.hpp"

namespace {

using namespace billpay;
using namespace std::chrono_literals;
namespace http = boost::beast::http;

class HttpsClient : public ::testing::Test {
  protected:
    void SetUp() override {
        ca = test::make_ca(dir.path(), "ca");
        cert = test::make_certificate(dir.path(), "server", "localhost", ca);
        server = std::make_unique<test::fake_https_server>(cert, [this](const test::fake_request&) {
            ++requests;
            if (drop_next.exchange(false)) {
                // The server closes the connection on the request's arrival, unanswered: as one
                // whose idle timeout struck just as the request came.
                return test::fake_reply{test::fake_reply::kind::reset, 0, "", "", {}, {}, {}};
            }
            return test::fake_reply::json(200, R"({"ok":true})");
        });
    }

    https::result send(https::client& client, https::resend again) {
        https::client::request req{http::verb::post, "/v1/things", 11};
        req.body() = "a=1";
        auto to = https::endpoint::parse("https://localhost:" + std::to_string(server->port()) +
                                         "/v1/things")
                      .value();
        auto done = boost::asio::co_spawn(
            ioc, client.send(to, req, std::chrono::steady_clock::now() + 3s, again),
            boost::asio::use_future);
        ioc.restart();
        ioc.run();
        return done.get();
    }

    test::temp_dir dir;
    test::tls_files ca;
    test::tls_files cert;
    std::unique_ptr<test::fake_https_server> server;
    std::atomic<int> requests{0};
    std::atomic<bool> drop_next{false};
    boost::asio::io_context ioc;
};

TEST_F(HttpsClient, AConnectionTheServerClosedWhileIdleIsNotReused) {
    server->close_idle_after(300ms);
    https::client client(ioc.get_executor(), {ca.certificate, 4, 10s});
    EXPECT_EQ(send(client, https::resend::never).status, 200);
    std::this_thread::sleep_for(600ms);  // the server closed the kept-alive connection
    auto second = send(client, https::resend::never);
    EXPECT_EQ(second.stage, https::send_stage::completed);
    EXPECT_EQ(second.status, 200);
    EXPECT_EQ(server->connections(), 2);
    EXPECT_EQ(requests, 2);
}

TEST_F(HttpsClient, AnIdleConnectionOlderThanKeepAliveIsNotReused) {
    https::client client(ioc.get_executor(), {ca.certificate, 4, 200ms});
    send(client, https::resend::never);
    send(client, https::resend::never);  // at once: the same connection
    EXPECT_EQ(server->connections(), 1);
    std::this_thread::sleep_for(300ms);
    send(client, https::resend::never);
    EXPECT_EQ(server->connections(), 2);
}

TEST_F(HttpsClient, ARequestADeadConnectionSwallowedGoesAgainOnlyWhenItMay) {
    https::client client(ioc.get_executor(), {ca.certificate, 4, 10s});
    send(client, https::resend::if_unanswered);
    drop_next = true;
    auto again = send(client, https::resend::if_unanswered);
    EXPECT_EQ(again.stage, https::send_stage::completed);  // sent again on a new connection
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(requests, 3);
    EXPECT_EQ(server->connections(), 2);

    drop_next = true;
    auto once = send(client, https::resend::never);
    // Not sent again: it may have been acted on; possibly sent, never "not sent".
    EXPECT_EQ(once.stage, https::send_stage::answer_lost);
    EXPECT_EQ(requests, 4);
}

}  // namespace
