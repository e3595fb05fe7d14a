// The outbound HTTPS client against a loopback TLS server: kept-alive connections the server
// closed are never a failure, and a request goes again only when its caller says it may.
#include "https/client.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <fstream>
#include <sstream>
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

/// A secret the test never holds in the clear: each byte is stored XOR 0x5a, and memory is
/// searched by decoding what is read, so the search finds only real copies, never its own.
constexpr unsigned char mask = 0x5a;

/// How many times the masked `secret` appears in this process's writable memory: the heap and
/// every anonymous mapping (thread stacks and arenas included), read through /proc/self/mem.
int copies_in_memory(const std::string& masked) {
    std::ifstream maps("/proc/self/maps");
    std::ifstream mem("/proc/self/mem", std::ios::binary);
    std::vector<char> chunk(1 << 20);
    int found = 0;
    for (std::string line; std::getline(maps, line);) {
        std::istringstream fields(line);
        std::string range, perms, offset, device, inode, name;
        fields >> range >> perms >> offset >> device >> inode >> name;
        if (perms.substr(0, 2) != "rw" || !(name.empty() || name == "[heap]")) {
            continue;
        }
        const auto dash = range.find('-');
        auto at = std::stoull(range.substr(0, dash), nullptr, 16);
        const auto end = std::stoull(range.substr(dash + 1), nullptr, 16);
        std::size_t carried = 0;  // the end of the previous chunk, for a copy across chunks
        while (at < end) {
            const auto want = std::min<std::uint64_t>(chunk.size() - carried, end - at);
            mem.clear();
            mem.seekg(static_cast<std::streamoff>(at));
            mem.read(chunk.data() + carried, static_cast<std::streamsize>(want));
            const auto got = carried + static_cast<std::size_t>(mem.gcount());
            if (mem.gcount() <= 0) {
                break;
            }
            auto from = chunk.begin();
            const auto stop = chunk.begin() + static_cast<std::ptrdiff_t>(got);
            for (;;) {
                from = std::search(from, stop, masked.begin(), masked.end(), [](char m, char k) {
                    return static_cast<unsigned char>(m ^ mask) == static_cast<unsigned char>(k);
                });
                if (from == stop) {
                    break;
                }
                ++found;
                from += static_cast<std::ptrdiff_t>(masked.size());
            }
            carried = std::min(got, masked.size() - 1);
            std::copy(stop - static_cast<std::ptrdiff_t>(carried), stop, chunk.begin());
            // The chunk is itself in the memory searched: what it read must not be found again.
            std::fill(chunk.begin() + static_cast<std::ptrdiff_t>(carried), chunk.end(), 0);
            at += static_cast<std::uint64_t>(mem.gcount());
        }
    }
    std::fill(chunk.begin(), chunk.end(), 0);
    return found;
}

TEST(HttpsClientMemory, NoCopyOfARequestBodyOutlivesItsExchange) {
#if defined(__SANITIZE_ADDRESS__)
    // AddressSanitizer maps terabytes of shadow memory: reading it all takes hours, and its
    // allocator keeps freed blocks in quarantine anyway. The plain build runs this test.
    GTEST_SKIP() << "not under AddressSanitizer";
#endif
    // A processor's tokenize body holds card data. Once sent, and with the connection kept idle
    // for the next request, no copy of it may be left in memory: not in a write buffer of the
    // TLS stream, not anywhere. The server runs in a child process, so its copies are its own.
    test::temp_dir dir;
    auto ca = test::make_ca(dir.path(), "ca");
    auto cert = test::make_certificate(dir.path(), "server", "localhost", ca);
    int port_pipe[2];
    int stop_pipe[2];
    ASSERT_EQ(pipe(port_pipe), 0);
    ASSERT_EQ(pipe(stop_pipe), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        close(stop_pipe[1]);
        test::fake_https_server server(
            cert, [](const test::fake_request&) { return test::fake_reply::json(200, "{}"); });
        const unsigned short port = server.port();
        (void)!write(port_pipe[1], &port, sizeof port);
        char byte;
        (void)!read(stop_pipe[0], &byte, 1);  // until the parent closes its end
        _exit(0);
    }
    close(stop_pipe[0]);
    unsigned short port = 0;
    ASSERT_EQ(read(port_pipe[0], &port, sizeof port), static_cast<ssize_t>(sizeof port));

    // The secret: made at random, kept masked; a card-number-sized run of digits and a marker.
    std::string masked;
    std::srand(static_cast<unsigned>(getpid()));
    for (char c : std::string("pan=")) {
        masked.push_back(static_cast<char>(c ^ mask));
    }
    for (int i = 0; i < 40; ++i) {
        masked.push_back(static_cast<char>(('0' + std::rand() % 10) ^ mask));
    }

    boost::asio::io_context ioc;
    https::client client(ioc.get_executor(), {ca.certificate, 4, 30s});
    auto to = https::endpoint::parse("https://localhost:" + std::to_string(port) + "/v1/tokens");
    ASSERT_TRUE(to);
    {
        https::client::request req{http::verb::post, "/v1/tokens", 11};
        req.set(http::field::content_type, "application/x-www-form-urlencoded");
        for (char m : masked) {
            req.body().push_back(static_cast<char>(m ^ mask));
        }
        // The scan sees the body where it is: it can find a copy.
        ASSERT_EQ(copies_in_memory(masked), 1);
        auto done = boost::asio::co_spawn(
            ioc, client.send(*to, req, std::chrono::steady_clock::now() + 5s, https::resend::never),
            boost::asio::use_future);
        ioc.run();
        EXPECT_EQ(done.get().status, 200);
    }  // the request's body is wiped as it goes
    EXPECT_EQ(copies_in_memory(masked), 0)
        << "a copy of the request body outlived the exchange (the connection idles in the pool)";

    close(stop_pipe[1]);
    int status = 0;
    waitpid(child, &status, 0);
}

}  // namespace
