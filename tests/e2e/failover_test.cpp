// The deployment of docs/operations.md ("Several instances and PostgreSQL failover") built on
// this machine: two billpayd behind Debian's HAProxy (GET /readyz as its health check), against
// a PostgreSQL primary with a synchronous standby made by pg_basebackup, billpayd's DSN naming
// both with target_session_attrs=read-write. Payments keep coming through HAProxy while
// (a) one billpayd is killed with kill -9 and started again, and (b) the primary crashes and the
// standby is promoted. Each client asks again under the same Idempotency-Key until it gets a
// definitive answer, as the portal does. Afterwards, on the new primary: every payment answered
// 201 is succeeded, the simulator's ledger and billpayd's records agree one to one (nothing
// charged twice, no charge without its payment), nothing is left pending, every succeeded
// payment has exactly one receipt at the correspondence system, and readiness (billpayd's and
// HAProxy's view of it) followed the outage while it lasted.
#include <gmock/gmock.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <future>
#include <mutex>

#include "tests/e2e/payments_fixture.hpp"
#include "tests/fakes/correspondence_server.hpp"
#include "tests/support/haproxy_process.hpp"
#include "tests/support/replicated_postgres.hpp"

namespace {

using namespace billpay::test;
using namespace std::chrono_literals;
namespace json = boost::json;

const std::string webhook_secret = "whsec-test-0c4b8a2e6f1d3957b0a8c6e4f2d1b3a5";

/// What one payment request came to, after as many attempts as it took.
struct outcome {
    int status = 0;  // the definitive answer; 0: none came before the test gave up
    std::string payment_id;
    std::string body;
    int attempts = 0;
};

class Failover : public payments_fixture {
  protected:
    void SetUp() override {
        payments_fixture::SetUp();
        postgres = std::make_unique<replicated_postgres>("billpay");
        config.dsn = postgres->dsn();
        records_dsn = postgres->dsn();
        receiver = std::make_unique<correspondence_server>(
            make_certificate(dir.path(), "receiver", "localhost", ca), webhook_secret);
        config.correspondence =
            "correspondence:\n  transport: webhook\n  poll_interval_ms: 300\n"
            "  retry_base_ms: 100\n  retry_max_ms: 500\n  webhook:\n"
            "    url: " +
            receiver->url() + "\n    signing_secret: \"" + webhook_secret +
            "\"\n    ca_file: " + ca.certificate.string() + "\n    timeout_ms: 1000\n";
        // One processor ledger for both instances, where processor_ledger() reads it.
        config.extra_root = clients_yaml() +
                            "gateway:\n  processor: simulator\n  timeout_ms: 1000\n"
                            "  simulator: {latency_ms: 5, ledger: " +
                            (dir / "simulator" / "ledger.jsonl").string() + "}\n" +
                            payments_yaml(2000, 20);
        migrate();
        // Two instances: the same config but for the port (HAProxy names each one's), each in
        // a folder of its own with the same fingerprint key.
        for (int i = 0; i < 2; ++i) {
            auto folder = dir / ("instance-" + std::to_string(i + 1));
            std::filesystem::create_directories(folder);
            std::filesystem::copy_file(dir / "fingerprint-key", folder / "fingerprint-key");
            config.port = unused_port();
            ports.push_back(config.port);
            configs.push_back(write_config(folder, config));
        }
        instances.resize(2);
        start_instance(0);
        start_instance(1);
        haproxy = std::make_unique<haproxy_process>(ports);
        ASSERT_TRUE(haproxy->wait_for_all("UP", 10s)) << haproxy->log();
    }

    void start_instance(int i) {
        instances[i] = std::make_unique<daemon_process>(configs[i]);
        instances[i]->wait_ready();
    }

    /// billpayd's own /readyz of instance `i`, asked directly (not through HAProxy), until it
    /// answers `status`; true if it did within `timeout`.
    bool instance_readyz_becomes(int i, http::status status, std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        do {
            try {
                https_client c(ports[i]);
                if (c.request(http::verb::get, "/readyz").result() == status) {
                    return true;
                }
            } catch (const std::exception&) {
                // not listening (yet): not the answer waited for
            }
            std::this_thread::sleep_for(100ms);
        } while (std::chrono::steady_clock::now() < deadline);
        return false;
    }

    /// The portal's side: `workers` connections through HAProxy, each paying a new bill (key
    /// fo-<n>) and asking again under the same key, every 100 ms, after anything that is not
    /// a definitive answer (a dropped connection, 503, 409 idempotency_key_in_use) — for up
    /// to 90 s per payment. Stops taking new payments once `stop` is set.
    void run_load(int workers) {
        for (int w = 0; w < workers; ++w) {
            load.push_back(std::async(std::launch::async, [this] {
                std::optional<https_client> c;
                while (!stop.load()) {
                    const int n = next_payment++;
                    const std::string key = "fo-" + std::to_string(n);
                    const auto body = json::serialize(
                        payment_body("4242424242424242", key, 1000 + n, "1001-2002"));
                    outcome o;
                    const auto give_up = std::chrono::steady_clock::now() + 90s;
                    while (o.status == 0 && std::chrono::steady_clock::now() < give_up) {
                        ++o.attempts;
                        try {
                            if (!c) {
                                c.emplace(haproxy->port());
                            }
                            auto res = c->request(http::verb::post, "/v1/payments", body,
                                                  auth(portal_key, key));
                            if (definitive(res)) {
                                o.status = res.result_int();
                                o.body = res.body();
                                auto doc = json::parse(res.body());
                                if (const auto* id = doc.as_object().if_contains("id")) {
                                    o.payment_id = std::string(id->as_string());
                                }
                                break;
                            }
                        } catch (const std::exception&) {
                            c.reset();  // the connection broke: whether it was paid is unknown
                        }
                        std::this_thread::sleep_for(100ms);
                    }
                    std::lock_guard lock(outcomes_mutex);
                    if (o.status == 201) {
                        ++created;
                    }
                    outcomes[n] = std::move(o);
                }
            }));
        }
    }

    /// Not definitive: the store or every instance unreachable (503, or HAProxy's own 5xx), the
    /// key still in flight at another request (409 idempotency_key_in_use).
    static bool definitive(const http_response& res) {
        const int s = res.result_int();
        if (s == 502 || s == 503 || s == 504) {
            return false;
        }
        return !(s == 409 && res.body().find("idempotency_key_in_use") != std::string::npos);
    }

    /// Waits until `more` payments beyond `from` were answered 201; true if they were in time.
    bool created_beyond(int from, int more, std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (created.load() < from + more) {
            if (std::chrono::steady_clock::now() > deadline) {
                return false;
            }
            std::this_thread::sleep_for(20ms);
        }
        return true;
    }

    void stop_load() {
        stop = true;
        for (auto& f : load) {
            f.get();
        }
        load.clear();
    }

    void TearDown() override {
        if (!load.empty()) {
            stop_load();
        }
    }

    /// What must hold after the load, on the PostgreSQL of `dsn` (the new primary, and only it).
    void expect_every_answer_to_stand_on(const std::string& dsn, int least_created) {
        records_dsn = dsn;
        // Every request came to a definitive answer, and only the answers a payment may have.
        ASSERT_EQ(count("SELECT count(*) WHERE NOT pg_is_in_recovery()"), 1);
        std::map<int, int> by_status;
        for (const auto& [n, o] : outcomes) {
            ++by_status[o.status];
            EXPECT_TRUE(o.status == 201 || o.status == 202 || o.status == 402)
                << "payment fo-" << n << " after " << o.attempts << " attempts: " << o.status << " "
                << o.body;
        }
        ASSERT_GE(by_status[201], least_created);

        // Pending ones are finished by the recovery worker.
        wait_until_none_pending(60s);
        EXPECT_EQ(count("SELECT count(*) FROM payments WHERE status = 'pending'"), 0);

        // Every 201 stands as succeeded on the new primary; every 202 ended one way or the other.
        {
            pqxx::connection conn(records_dsn);
            pqxx::read_transaction tx(conn);
            for (const auto& [n, o] : outcomes) {
                if (o.status != 201 && o.status != 202) {
                    continue;
                }
                auto row =
                    tx.exec_params("SELECT status FROM payments WHERE id = $1", o.payment_id);
                ASSERT_EQ(row.size(), 1u)
                    << "payment fo-" << n << " (" << o.payment_id << ") answered " << o.status
                    << " is not on the new primary";
                if (o.status == 201) {
                    EXPECT_EQ(row[0][0].as<std::string>(), "succeeded") << "fo-" << n;
                }
            }
        }
        // The processor and billpayd agree one to one: no charge without its succeeded payment, no
        // succeeded payment without its one charge; no bill paid twice.
        EXPECT_THAT(ledger_disagreements(), ::testing::IsEmpty());
        EXPECT_EQ(
            count("SELECT count(*) FROM (SELECT bill_id FROM payments WHERE status = 'succeeded'"
                  " GROUP BY bill_id HAVING count(*) > 1) twice"),
            0);

        // Every succeeded payment has exactly one receipt at the correspondence system.
        auto delivered_by = std::chrono::steady_clock::now() + 30s;
        while (count("SELECT count(*) FROM outbox_messages WHERE status <> 'delivered'") > 0 &&
               std::chrono::steady_clock::now() < delivered_by) {
            std::this_thread::sleep_for(100ms);
        }
        std::map<std::string, std::set<std::string>> receipts_by_payment;
        for (const auto& [id, body] : receiver->bodies()) {
            auto doc = json::parse(body).as_object();
            if (doc.at("type") == "payment_receipt") {
                receipts_by_payment[std::string(doc.at("payment").at("id").as_string())].insert(id);
            }
        }
        pqxx::connection conn(records_dsn);
        pqxx::read_transaction tx(conn);
        const auto succeeded = tx.exec("SELECT id FROM payments WHERE status = 'succeeded'");
        EXPECT_EQ(receipts_by_payment.size(), succeeded.size());
        for (const auto& row : succeeded) {
            EXPECT_EQ(receipts_by_payment[row[0].as<std::string>()].size(), 1u)
                << row[0].as<std::string>();
        }
        EXPECT_THAT(receiver->conflicting_ids(), ::testing::IsEmpty());
        EXPECT_EQ(receiver->bad_signatures(), 0);
        std::cout << "failover: " << outcomes.size() << " payments (" << by_status[201] << " 201, "
                  << by_status[202] << " 202, " << by_status[402] << " 402), " << succeeded.size()
                  << " succeeded, " << processor_charges() << " charges at the processor\n";
    }

    std::unique_ptr<replicated_postgres> postgres;
    std::unique_ptr<correspondence_server> receiver;
    std::vector<unsigned short> ports;
    std::vector<std::filesystem::path> configs;
    std::vector<std::unique_ptr<daemon_process>> instances;
    std::unique_ptr<haproxy_process> haproxy;

    std::vector<std::future<void>> load;
    std::atomic<bool> stop{false};
    std::atomic<int> next_payment{0};
    std::atomic<int> created{0};
    std::mutex outcomes_mutex;
    std::map<int, outcome> outcomes;
};

TEST_F(Failover, KillNineOfAnInstanceAndPromotionOfTheStandbyLoseNoPaymentAndChargeNoneTwice) {
    run_load(8);
    ASSERT_TRUE(created_beyond(0, 40, 30s)) << "payments through HAProxy did not start";

    // (a) kill -9 of one instance: HAProxy takes it out, payments go on through the other.
    instances[0]->send_signal(SIGKILL);
    instances[0]->wait_exit();
    EXPECT_TRUE(haproxy->wait_for("billpayd-1", "DOWN", 5s)) << haproxy->log();
    int before = created.load();
    EXPECT_TRUE(created_beyond(before, 40, 30s)) << "no payments through the surviving instance";
    start_instance(0);  // as systemd's Restart= does
    EXPECT_TRUE(haproxy->wait_for_all("UP", 10s));
    before = created.load();
    EXPECT_TRUE(created_beyond(before, 40, 30s));

    // (b) the primary crashes. Neither instance can write: both say so on /readyz, HAProxy
    // takes both out, and clients are refused rather than told anything false.
    postgres->crash_primary();
    const int at_crash = created.load();
    for (int i = 0; i < 2; ++i) {
        EXPECT_TRUE(instance_readyz_becomes(i, http::status::service_unavailable, 10s))
            << "instance " << i + 1 << " still says ready with its primary gone";
    }
    EXPECT_TRUE(haproxy->wait_for_all("DOWN", 5s)) << haproxy->log();
    std::this_thread::sleep_for(1s);  // the outage lasts until the operator promotes
    EXPECT_TRUE(haproxy->wait_for_all("DOWN", 0ms));
    // 201s after the crash and before the promotion: only those of the 8 clients whose payment
    // was already recorded as succeeded when the primary went.
    EXPECT_LE(created.load() - at_crash, 8);

    // The operator promotes the standby: libpq finds it (target_session_attrs=read-write), both
    // instances become ready again, HAProxy brings them back, payments go on.
    postgres->promote_standby();
    for (int i = 0; i < 2; ++i) {
        EXPECT_TRUE(instance_readyz_becomes(i, http::status::ok, 20s)) << "instance " << i + 1;
    }
    EXPECT_TRUE(haproxy->wait_for_all("UP", 10s)) << haproxy->log();
    before = created.load();
    EXPECT_TRUE(created_beyond(before, 40, 30s)) << "no payments after the promotion";
    stop_load();
    expect_every_answer_to_stand_on(postgres->standby_dsn(), 160);
}

TEST_F(Failover, ACommitTheStandbyNeverConfirmedIsNotTakenForADurableOne) {
    // The operator promotes the standby before stopping the old primary (the wrong order:
    // docs/operations.md says to fence the primary first). Until it stops, the instances still
    // write to the old primary, whose commits now wait for a standby that no longer follows it
    // (statement_timeout does not end that wait). Someone then cancels the stuck backends, as
    // an operator trying to unstick them would: PostgreSQL ends each wait with a warning and
    // the commit stands on the old primary alone. billpayd must not take such a commit for a
    // durable one: no 201 may rest on it, and what it wrote must come out right on the new
    // primary.
    run_load(8);
    ASSERT_TRUE(created_beyond(0, 40, 30s)) << "payments through HAProxy did not start";
    postgres->promote_standby();
    int cancelled = 0;
    for (int round = 0; round < 15; ++round) {
        std::this_thread::sleep_for(200ms);
        pqxx::connection conn(postgres->primary_dsn());
        pqxx::nontransaction tx(conn);
        cancelled += tx.exec(
                           "SELECT pg_cancel_backend(pid) FROM pg_stat_activity"
                           " WHERE application_name = 'billpayd' AND wait_event = 'SyncRep'")
                         .size();
    }
    ASSERT_GT(cancelled, 0) << "no commit waited for the standby";
    postgres->stop_primary();
    for (int i = 0; i < 2; ++i) {
        EXPECT_TRUE(instance_readyz_becomes(i, http::status::ok, 20s)) << "instance " << i + 1;
    }
    const int before = created.load();
    EXPECT_TRUE(created_beyond(before, 40, 30s)) << "no payments after the old primary stopped";
    stop_load();
    expect_every_answer_to_stand_on(postgres->standby_dsn(), 80);
    std::cout << "cancelled " << cancelled << " waits for the standby\n";
    bool said = false;
    for (int i = 0; i < 2; ++i) {
        said = said || instances[i]->wait_for_log("not confirmed by the synchronous standby", 0ms);
    }
    EXPECT_TRUE(said) << "no instance said why its commits were unknown";
}

}  // namespace
