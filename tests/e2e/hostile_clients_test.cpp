// Clients that do not play fair, against the real billpayd over real TLS: the unauthenticated
// get no body read, no second try on their connection and only a short wait, and one address
// cannot take every connection slot.
#include <gmock/gmock.h>

#include <boost/json/serialize.hpp>
#include <thread>

#include "tests/e2e/payments_fixture.hpp"

namespace {

using namespace billpay::test;
using namespace std::chrono_literals;
namespace json = boost::json;

class HostileClients : public payments_fixture {};

TEST_F(HostileClients, AnUnauthenticatedRequestIsRefusedBeforeItsBodyAndTheConnectionClosed) {
    start();  // read_timeout_ms: 2000
    auto c = client();
    ASSERT_FALSE(c.connect());
    // Headers announcing a large body, and no body at all: billpayd must answer from the
    // headers alone, not wait for (or buffer) a body nobody is entitled to send.
    auto started = std::chrono::steady_clock::now();
    ASSERT_FALSE(
        c.write_raw("POST /v1/payments HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                    "application/json\r\nIdempotency-Key: k1\r\nContent-Length: 60000\r\n\r\n"));
    auto [ec, res] = c.read_response(5s);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);  // before the read deadline
    EXPECT_EQ(res.result(), http::status::unauthorized);
    EXPECT_EQ(json_of(res).at("error").at("type"), "authentication_error");
    EXPECT_FALSE(res.keep_alive());
    EXPECT_TRUE(c.closed_by_server_within(3s));
    EXPECT_EQ(table_counts(), "0/0/0/0/0");
}

TEST_F(HostileClients, AWrongKeyGetsNoSecondTryOnItsConnection) {
    start();
    auto c = client();
    auto res = get(c, "/v1/payments?account_number=1001-2002", "not-a-key");
    EXPECT_EQ(res.result(), http::status::unauthorized);
    EXPECT_FALSE(res.keep_alive());
    EXPECT_TRUE(c.closed_by_server_within(2s));
    // A good request on a connection of its own is answered as usual and kept alive.
    auto d = client();
    auto ok = get(d, "/v1/payments?account_number=1001-2002");
    EXPECT_EQ(ok.result(), http::status::ok);
    EXPECT_TRUE(ok.keep_alive());
}

TEST_F(HostileClients, AConnectionThatNeverAuthenticatesIsDroppedSoonerThanAClients) {
    config.idle_timeout_ms = 10'000;
    config.extra_listen = "  unauthenticated_idle_timeout_ms: 400\n";
    start();
    // Connected and silent: dropped after the short wait.
    auto silent = client();
    ASSERT_FALSE(silent.connect());
    auto started = std::chrono::steady_clock::now();
    EXPECT_TRUE(silent.closed_by_server_within(3s));
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);

    // Health checks need no key, and do not make a connection a client's.
    auto probe = client();
    EXPECT_EQ(probe.request(http::verb::get, "/healthz").result(), http::status::ok);
    EXPECT_TRUE(probe.closed_by_server_within(3s));

    // A client that authenticated keeps its connection for idle_timeout.
    auto portal = client();
    EXPECT_EQ(get(portal, "/v1/payments?account_number=1001-2002").result(), http::status::ok);
    EXPECT_FALSE(portal.closed_by_server_within(1500ms));
    EXPECT_EQ(get(portal, "/v1/payments?account_number=1001-2002").result(), http::status::ok);
}

TEST_F(HostileClients, OneAddressCannotTakeEverySlot) {
    config.extra_listen = "  max_connections_per_address: 3\n";
    start();
    std::vector<std::unique_ptr<https_client>> held;
    for (int i = 0; i < 3; ++i) {
        held.push_back(std::make_unique<https_client>(daemon->port()));
        ASSERT_FALSE(held.back()->connect()) << i;
    }
    // The fourth from the same address is closed at once, before TLS.
    auto fourth = client();
    EXPECT_TRUE(fourth.connect());
    ASSERT_TRUE(daemon->wait_for_log("max_connections_per_address reached", 5s));

    // A slot given back is a slot another connection from that address can take.
    held.pop_back();
    bool admitted = false;
    for (int attempt = 0; attempt < 50 && !admitted; ++attempt) {
        auto again = client();
        admitted = !again.connect() &&
                   get(again, "/v1/payments?account_number=1001-2002").result() == http::status::ok;
        if (!admitted) {
            std::this_thread::sleep_for(50ms);
        }
    }
    EXPECT_TRUE(admitted);
}

}  // namespace
