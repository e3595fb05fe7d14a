// billpayd's lifecycle through the real binary: graceful SIGTERM, SIGHUP certificate reload,
// sd_notify, and refusing an old schema.
#include <gmock/gmock.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <thread>

#include "tests/e2e/daemon_fixture.hpp"

namespace {

using namespace billpay::test;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

class Lifecycle : public daemon_fixture {};

TEST_F(Lifecycle, SigtermFinishesTheRequestInFlightThenExitsZero) {
    start();
    auto c = client();
    ASSERT_FALSE(c.connect());
    // A request whose body is still arriving when SIGTERM comes.
    ASSERT_FALSE(
        c.write_raw("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                    "Content-Length: 20\r\n\r\n0123456789"));
    std::this_thread::sleep_for(200ms);
    daemon->send_signal(SIGTERM);
    ASSERT_TRUE(daemon->wait_for_log("stopping: draining connections", 5s));

    // No new connections once draining.
    auto late = client();
    EXPECT_TRUE(late.connect());

    ASSERT_FALSE(c.write_raw("0123456789"));
    auto [ec, res] = c.read_response();
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_EQ(res.result(), http::status::method_not_allowed);  // answered in full
    EXPECT_FALSE(res.keep_alive());                             // and told to go
    EXPECT_EQ(daemon->wait_exit(5s), 0);
}

TEST_F(Lifecycle, SigtermClosesIdleKeepAliveConnectionsWithoutWaitingForTheGracePeriod) {
    config.shutdown_grace_ms = 20000;
    start();
    auto c = client();
    EXPECT_EQ(c.request(http::verb::get, "/healthz").result(), http::status::ok);  // now idle
    auto started = std::chrono::steady_clock::now();
    daemon->send_signal(SIGTERM);
    EXPECT_EQ(daemon->wait_exit(10s), 0);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST_F(Lifecycle, SigtermCutsRequestsThatOutlastTheGracePeriod) {
    config.shutdown_grace_ms = 500;
    config.read_timeout_ms = 30000;
    start();
    auto c = client();
    ASSERT_FALSE(c.connect());
    ASSERT_FALSE(c.write_raw("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n0"));
    std::this_thread::sleep_for(200ms);
    daemon->send_signal(SIGTERM);
    EXPECT_EQ(daemon->wait_exit(5s), 0);
    EXPECT_THAT(daemon->log(), HasSubstr("grace period over"));
}

TEST_F(Lifecycle, SighupServesANewCertificateToNewConnectionsAndKeepsOpenOnes) {
    start();
    auto before = certificate_fingerprint(server_cert.certificate);
    auto old_connection = client();
    ASSERT_FALSE(old_connection.connect());
    EXPECT_EQ(old_connection.server_certificate_fingerprint(), before);

    // Replace the files in place, as certbot or an operator would, then reload.
    auto renewed = make_certificate(dir.path(), "renewed", "localhost", ca);
    std::filesystem::copy_file(renewed.certificate, server_cert.certificate,
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(renewed.key, server_cert.key,
                               std::filesystem::copy_options::overwrite_existing);
    auto after = certificate_fingerprint(server_cert.certificate);
    ASSERT_NE(before, after);
    daemon->send_signal(SIGHUP);
    ASSERT_TRUE(daemon->wait_for_log("TLS certificate reloaded", 5s));

    auto new_connection = client();
    ASSERT_FALSE(new_connection.connect());
    EXPECT_EQ(new_connection.server_certificate_fingerprint(), after);
    EXPECT_EQ(old_connection.request(http::verb::get, "/healthz").result(), http::status::ok);
}

TEST_F(Lifecycle, ABrokenCertificateOnReloadIsLoggedAndTheOldOneKept) {
    start();
    auto before = certificate_fingerprint(server_cert.certificate);
    auto saved = read_file(server_cert.certificate);
    write_file(server_cert.certificate, "-----BEGIN CERTIFICATE-----\nnot base64\n");
    daemon->send_signal(SIGHUP);
    ASSERT_TRUE(daemon->wait_for_log("TLS reload failed", 5s));
    write_file(server_cert.certificate, saved);  // so the fingerprint below can be computed
    auto c = client();
    ASSERT_FALSE(c.connect());
    EXPECT_EQ(c.server_certificate_fingerprint(), before);
    EXPECT_EQ(c.request(http::verb::get, "/healthz").result(), http::status::ok);
}

/// A datagram socket playing systemd's notify socket.
class notify_socket {
  public:
    explicit notify_socket(std::filesystem::path path) : path_(std::move(path)) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            throw std::runtime_error("bind notify socket");
        }
        timeval tv{0, 100'000};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~notify_socket() { ::close(fd_); }

    /// Collects messages until one contains `text` or `timeout` passes; returns whether it came.
    bool wait_for(const std::string& text, std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            char buffer[4096];
            auto n = ::recv(fd_, buffer, sizeof buffer, 0);
            if (n > 0) {
                messages.emplace_back(buffer, static_cast<std::size_t>(n));
                if (messages.back().find(text) != std::string::npos) {
                    return true;
                }
            }
        }
        return false;
    }

    int count(const std::string& text) const {
        int n = 0;
        for (const auto& m : messages) {
            n += m.find(text) != std::string::npos;
        }
        return n;
    }

    std::vector<std::string> messages;

  private:
    std::filesystem::path path_;
    int fd_ = -1;
};

TEST_F(Lifecycle, SpeaksSdNotifyReadyReloadWatchdogAndStopping) {
    notify_socket systemd(dir / "notify.sock");
    start({{"NOTIFY_SOCKET", (dir / "notify.sock").string()}, {"WATCHDOG_USEC", "400000"}});
    ASSERT_TRUE(systemd.wait_for("READY=1", 5s));
    EXPECT_GE(systemd.count("STATUS="), 1);

    // WATCHDOG=1 at half the interval: several within a second.
    systemd.messages.clear();
    std::this_thread::sleep_for(1s);
    systemd.wait_for("never", 100ms);
    EXPECT_GE(systemd.count("WATCHDOG=1"), 3);

    systemd.messages.clear();
    daemon->send_signal(SIGHUP);
    ASSERT_TRUE(systemd.wait_for("READY=1", 5s));
    EXPECT_EQ(systemd.count("RELOADING=1"), 1);
    EXPECT_GE(systemd.count("MONOTONIC_USEC="), 1);

    daemon->send_signal(SIGTERM);
    EXPECT_TRUE(systemd.wait_for("STOPPING=1", 5s));
    EXPECT_EQ(daemon->wait_exit(5s), 0);
}

TEST_F(Lifecycle, RefusesToStartOnASchemaOlderThanItNeeds) {
    write_config(dir.path(), config);  // but no migrate
    daemon = std::make_unique<daemon_process>(dir / "billpayd.yaml");
    EXPECT_EQ(daemon->wait_exit(15s), 1);
    EXPECT_THAT(daemon->log(), HasSubstr("billpayctl --config FILE migrate"));
    EXPECT_THAT(daemon->log(), HasSubstr("\"schema_version\":0"));
}

TEST_F(Lifecycle, ABadCertificateAtStartIsFatalAndNamesTheFile) {
    write_file(server_cert.key, "garbage");
    write_config(dir.path(), config);
    daemon = std::make_unique<daemon_process>(dir / "billpayd.yaml");
    EXPECT_EQ(daemon->wait_exit(10s), 1);
    EXPECT_THAT(daemon->log(), HasSubstr("cannot use private key " + server_cert.key.string()));
}

TEST_F(Lifecycle, UnderTheJournalLinesCarryTheirFieldsOrFallBackToStderr) {
    // billpayd's stderr announced as the journal's stream, as systemd does (JOURNAL_STREAM).
    start({{"JOURNAL_STREAM", "=stderr"}});
    auto c = client();
    auto res = c.request(http::verb::get, "/healthz");
    ASSERT_EQ(res.result(), http::status::ok);
    const std::string request_id(res["Request-Id"]);
    daemon->send_signal(SIGTERM);
    ASSERT_EQ(daemon->wait_exit(), 0);
    if (std::filesystem::exists("/run/systemd/journal/socket")) {
        // A journal to send to: the request is found by its field.
        auto found = capture_command(
            "journalctl -o cat --no-pager SYSLOG_IDENTIFIER=billpayd "
            "REQUEST_ID=" +
            request_id);
        EXPECT_THAT(found, HasSubstr(request_id));
    } else {
        // No journal here: no line is lost, each goes to stderr as it would have.
        EXPECT_THAT(daemon->log(), HasSubstr("\"request_id\":\"" + request_id + "\""));
        EXPECT_THAT(daemon->log(), HasSubstr("\"message\":\"ready\""));
    }
}

}  // namespace
