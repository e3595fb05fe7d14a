// Crashes and lost answers: a pending payment finished after a restart, and kill -9 in the
// middle of 200 payments leaves every payment finished and none charged twice.
#include <gmock/gmock.h>
#include <signal.h>

#include <atomic>
#include <future>

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

}  // namespace
