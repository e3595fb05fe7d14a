// /readyz follows the database: a PostgreSQL cluster of this test's own is stopped and started
// under a running billpayd (the shared test server cannot be stopped: other tests use it).
#include <gmock/gmock.h>

#include <thread>

#include "tests/e2e/daemon_fixture.hpp"

namespace {

using namespace billpay::test;
using namespace std::chrono_literals;

/// A private cluster through scripts/pg-cluster, stopped when the object goes.
class private_cluster {
  public:
    private_cluster() {
        script_ = (source_dir() / "scripts" / "pg-cluster").string();
        if (run_command(script_ + " init " + dir_.path().string() + " --fast") != 0) {
            throw std::runtime_error("pg-cluster init failed");
        }
        start();
        dsn_ = capture_command(script_ + " dsn " + dir_.path().string());
        dsn_.erase(dsn_.find_last_not_of('\n') + 1);
    }
    ~private_cluster() { stop(); }
    void start() {
        if (run_command(script_ + " start " + dir_.path().string()) != 0) {
            throw std::runtime_error("pg-cluster start failed");
        }
    }
    void stop() { run_command(script_ + " stop " + dir_.path().string()); }
    [[nodiscard]] const std::string& dsn() const { return dsn_; }

  private:
    temp_dir dir_;
    std::string script_;
    std::string dsn_;
};

class Readiness : public daemon_fixture {
  protected:
    /// Polls /readyz on fresh connections until it answers `status`; true if it did in time.
    bool readyz_becomes(http::status status, std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            auto c = client();
            if (c.request(http::verb::get, "/readyz").result() == status) {
                return true;
            }
            std::this_thread::sleep_for(200ms);
        }
        return false;
    }
};

TEST_F(Readiness, ReadyzFlipsWhenPostgresStopsAndStartsWhileHealthzStaysUp) {
    private_cluster cluster;
    config.dsn = cluster.dsn();
    start();
    ASSERT_TRUE(readyz_becomes(http::status::ok, 5s));

    cluster.stop();
    EXPECT_TRUE(readyz_becomes(http::status::service_unavailable, 10s));
    EXPECT_EQ(client().request(http::verb::get, "/healthz").result(), http::status::ok);
    EXPECT_EQ(json_of(client().request(http::verb::get, "/readyz")).at("database"), "unreachable");

    cluster.start();
    EXPECT_TRUE(readyz_becomes(http::status::ok, 15s));
    EXPECT_TRUE(daemon->wait_for_log("database reachable again", 5s));
}

TEST_F(Readiness, StartsWithoutTheDatabaseAndBecomesReadyWhenItArrives) {
    private_cluster cluster;
    config.dsn = cluster.dsn();
    migrate();
    cluster.stop();
    daemon = std::make_unique<daemon_process>(dir / "billpayd.yaml");
    ASSERT_TRUE(daemon->wait_for_log("waiting for the database", 10s));
    EXPECT_EQ(client().request(http::verb::get, "/healthz").result(), http::status::ok);
    EXPECT_EQ(client().request(http::verb::get, "/readyz").result(),
              http::status::service_unavailable);
    cluster.start();
    daemon->wait_ready();
    EXPECT_TRUE(readyz_becomes(http::status::ok, 5s));
}

}  // namespace
