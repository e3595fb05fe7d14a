// Crashes and lost answers: a pending payment finished after a restart; kill -9 in the middle of
// 200 payments leaves every payment finished and none charged twice; kill -9 under 64
// connections of load loses no answered payment and no receipt.
#include <gmock/gmock.h>
#include <signal.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <sstream>

#include "tests/e2e/payments_fixture.hpp"

namespace {

using namespace billpay::test;
using namespace std::chrono_literals;
namespace json = boost::json;

class PaymentFaults : public payments_fixture {
  protected:
    /// Restarts billpayd (after a kill -9) with a recovery worker that looks after 1 s.
    void restart_with_fast_recovery() {
        config.extra_root = clients_yaml() + gateway_yaml() + payments_yaml(2000);
        write_config(dir.path(), config);
        daemon = std::make_unique<daemon_process>(dir / "billpayd.yaml");
        daemon->wait_ready();
    }

    bool no_pending_within(std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (count("SELECT count(*) FROM payments WHERE status = 'pending'") == 0) {
                return true;
            }
            std::this_thread::sleep_for(200ms);
        }
        return false;
    }
};

TEST_F(PaymentFaults, APendingPaymentIsFinishedByTheRecoveryWorkerAfterARestart) {
    // First life: recovery would wait ten minutes.
    config.extra_root = clients_yaml() + gateway_yaml() + payments_yaml(600'000);
    start();
    auto c = client();
    auto res = pay(c, payment_body("4000000000000259"), "lost");
    ASSERT_EQ(res.result(), http::status::accepted);
    auto id = std::string(json_of(res).at("id").as_string());
    daemon->send_signal(SIGKILL);
    daemon->wait_exit();
    EXPECT_EQ(count("SELECT count(*) FROM payments WHERE status = 'pending'"), 1);

    restart_with_fast_recovery();
    EXPECT_TRUE(status_becomes(id, "succeeded", 15s));
    EXPECT_EQ(processor_charges(), 1);
    EXPECT_TRUE(daemon->wait_for_log("pending payment finished by recovery", 1s));
}

TEST_F(PaymentFaults,
       KillNineInTheMiddleOf200PaymentsLeavesEveryPaymentFinishedAndNoneChargedTwice) {
    config.extra_root = clients_yaml() + gateway_yaml(30) + payments_yaml(600'000);
    start();
    constexpr int total = 200;
    constexpr int workers = 16;
    std::atomic<int> next{0};
    std::vector<std::future<void>> futures;
    auto body_for = [](int i) {
        return json::serialize(payment_body(i % 10 == 0 ? "4000000000000002" : "4242424242424242",
                                            "bill-" + std::to_string(i), 1000 + i));
    };
    for (int w = 0; w < workers; ++w) {
        futures.push_back(std::async(std::launch::async, [&] {
            https_client c(daemon->port());
            for (int i = next++; i < total; i = next++) {
                try {
                    c.request(http::verb::post, "/v1/payments", body_for(i),
                              auth(portal_key, "crash-" + std::to_string(i)));
                } catch (const std::exception&) {
                    return;  // the server died under us
                }
            }
        }));
    }
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (count("SELECT count(*) FROM payments") < total / 2 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    daemon->send_signal(SIGKILL);
    daemon->wait_exit();
    for (auto& f : futures) {
        f.get();
    }
    auto before_restart = count("SELECT count(*) FROM payments");
    ASSERT_GE(before_restart, total / 2);
    ASSERT_LT(before_restart, total);  // the kill did land in the middle

    restart_with_fast_recovery();
    EXPECT_TRUE(no_pending_within(20s));

    // The portal retries every request with its own key: each gets its payment's answer (or
    // 409 for a request that died before reaching the processor, whose key is still leased).
    https_client c(daemon->port());
    for (int i = 0; i < total; ++i) {
        auto res = c.request(http::verb::post, "/v1/payments", body_for(i),
                             auth(portal_key, "crash-" + std::to_string(i)));
        auto status = res.result();
        EXPECT_TRUE(status == http::status::created || status == http::status::payment_required ||
                    status == http::status::conflict || status == http::status::accepted)
            << res.body();
    }
    EXPECT_TRUE(no_pending_within(20s));

    // The processor's ledger and billpayd's records agree one to one.
    EXPECT_THAT(ledger_disagreements(), ::testing::IsEmpty());
    // No bill was paid twice.
    EXPECT_EQ(count("SELECT count(*) FROM (SELECT bill_id FROM payments WHERE status = 'succeeded'"
                    " GROUP BY bill_id HAVING count(*) > 1) twice"),
              0);
}

TEST_F(PaymentFaults, KillNineUnderSixtyFourConnectionsLosesNoAnsweredPaymentAndNoReceipt) {
    config.extra_root = clients_yaml() + gateway_yaml(2) + payments_yaml(600'000);
    start();
    constexpr int connections = 64;
    std::atomic<int> next{0};
    std::mutex answers_mutex;
    std::map<int, std::string> paid;  // request number -> the payment its 201 named
    auto body_for = [](int i) {
        return json::serialize(payment_body(i % 10 == 0 ? "4000000000000002" : "4242424242424242",
                                            "load-" + std::to_string(i), 1000 + i));
    };
    std::vector<std::future<void>> workers;
    for (int w = 0; w < connections; ++w) {
        workers.push_back(std::async(std::launch::async, [&] {
            https_client c(daemon->port());
            for (;;) {
                const int i = next++;
                http_response res;
                try {
                    res = c.request(http::verb::post, "/v1/payments", body_for(i),
                                    auth(portal_key, "load-" + std::to_string(i)));
                } catch (const std::exception&) {
                    return;  // billpayd died under this connection
                }
                if (res.result() == http::status::created) {
                    std::lock_guard lock(answers_mutex);
                    paid[i] = std::string(json::parse(res.body()).at("id").as_string());
                }
            }
        }));
    }
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (count("SELECT count(*) FROM payments") < 400 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    daemon->send_signal(SIGKILL);
    daemon->wait_exit();
    for (auto& w : workers) {
        w.get();
    }
    ASSERT_GE(count("SELECT count(*) FROM payments"), 400);
    ASSERT_FALSE(paid.empty());

    restart_with_fast_recovery();
    EXPECT_TRUE(no_pending_within(30s));
    auto delivered_by = std::chrono::steady_clock::now() + 30s;
    while (count("SELECT count(*) FROM outbox_messages WHERE status <> 'delivered'") > 0 &&
           std::chrono::steady_clock::now() < delivered_by) {
        std::this_thread::sleep_for(100ms);
    }

    // Every payment answered 201 stands as succeeded.
    {
        pqxx::connection conn(database.dsn());
        pqxx::read_transaction tx(conn);
        for (const auto& [i, id] : paid) {
            auto row = tx.exec_params("SELECT status FROM payments WHERE id = $1", id);
            ASSERT_EQ(row.size(), 1u) << "request " << i;
            EXPECT_EQ(row[0][0].as<std::string>(), "succeeded") << "request " << i;
        }
    }
    // Every charge the processor made belongs to a payment that ended succeeded, and the
    // processor and billpayd agree one to one.
    const auto ledger = processor_ledger();
    for (const auto& [id, charge] : ledger.charges) {
        if (charge.outcome == "approved") {
            EXPECT_EQ(count("SELECT count(*) FROM payments WHERE id = '" + id +
                            "' AND status = 'succeeded'"),
                      1)
                << id;
        }
    }
    EXPECT_THAT(ledger_disagreements(), ::testing::IsEmpty());
    EXPECT_EQ(count("SELECT count(*) FROM payments WHERE status = 'pending'"), 0);

    // Every finished payment has exactly one receipt (or decline notice), of its kind, and it
    // reached the correspondence system exactly once: one spool file, written once.
    EXPECT_EQ(
        count("SELECT count(*) FROM payments p WHERE (SELECT count(*) FROM outbox_messages m"
              "  WHERE m.payment_id = p.id AND m.type = CASE p.status"
              "    WHEN 'succeeded' THEN 'payment_receipt' ELSE 'payment_declined' END) <> 1"),
        0);
    EXPECT_EQ(count("SELECT count(*) FROM outbox_messages WHERE status <> 'delivered'"), 0);
    std::map<std::string, int> files_of_payment;
    for (const auto& f : std::filesystem::directory_iterator(dir / "spool")) {
        if (f.path().extension() != ".json" || f.path().filename().string().starts_with(".")) {
            continue;
        }
        std::ifstream in(f.path());
        std::stringstream text;
        text << in.rdbuf();
        auto message = json::parse(text.str()).as_object();
        if (message.at("type") != "payment_pending") {
            ++files_of_payment[std::string(message.at("payment").at("id").as_string())];
        }
    }
    EXPECT_EQ(static_cast<std::int64_t>(files_of_payment.size()),
              count("SELECT count(*) FROM payments"));
    for (const auto& [id, files] : files_of_payment) {
        EXPECT_EQ(files, 1) << id;
    }
}

}  // namespace
