// Idempotency-Key semantics (Stripe's) and the duplicate-bill guard, through the real binary.
#include <gmock/gmock.h>

#include <atomic>
#include <future>
#include <set>

#include "tests/e2e/payments_fixture.hpp"

namespace {

using namespace billpay::test;
using namespace std::chrono_literals;
namespace json = boost::json;

class Idempotency : public payments_fixture {};

TEST_F(Idempotency, ARepeatWithTheSameBodyReplaysTheFirstAnswerByteForByte) {
    start();
    auto c = client();
    auto first = pay(c, payment_body("4242424242424242"), "same");
    auto second = pay(c, payment_body("4242424242424242"), "same");
    EXPECT_EQ(first.result(), http::status::created);
    EXPECT_EQ(second.result(), first.result());
    EXPECT_EQ(second.body(), first.body());
    EXPECT_EQ(second["Idempotent-Replayed"], "true");
    EXPECT_EQ(count("SELECT count(*) FROM payments"), 1);
    EXPECT_EQ(processor_charges(), 1);

    // A decline replays as a decline.
    auto declined = pay(c, payment_body("4000000000000002", "d"), "declined");
    auto again = pay(c, payment_body("4000000000000002", "d"), "declined");
    EXPECT_EQ(again.result(), http::status::payment_required);
    EXPECT_EQ(again.body(), declined.body());
}

TEST_F(Idempotency, TheSameKeyWithADifferentBodyIs422) {
    start();
    auto c = client();
    pay(c, payment_body("4242424242424242", "b", 12500), "k");
    auto res = pay(c, payment_body("4242424242424242", "b", 12600), "k");
    EXPECT_EQ(res.result(), http::status::unprocessable_entity);
    EXPECT_EQ(json_of(res).at("error").at("type"), "idempotency_error");
    EXPECT_EQ(json_of(res).at("error").at("code"), "idempotency_key_reused");
    // Another card under the same key is another request too, though no card data is stored.
    auto other_card = pay(c, payment_body("5555555555554444", "b", 12500), "k");
    EXPECT_EQ(other_card.result(), http::status::unprocessable_entity);
    EXPECT_EQ(count("SELECT count(*) FROM payments"), 1);
}

TEST_F(Idempotency, ARetryThatChangesOnlyTheCvcIsTheSameRequestAndNothingKeptDependsOnIt) {
    // PCI DSS 4.0.1, 3.3.1.2: the card verification code is not kept in any form after
    // authorisation. A request fingerprint that hashed it (with the fingerprint key beside the
    // card's own fingerprint) would let it be confirmed by trying all 1,000 values.
    start();
    auto c = client();
    auto body = payment_body("4242424242424242", "cvc-bill");
    auto first = pay(c, body, "cvc-key");
    ASSERT_EQ(first.result(), http::status::created);
    const auto kept = text("SELECT request_fingerprint FROM idempotency_keys");

    body["card"].as_object()["cvc"] = "456";
    auto retry = pay(c, body, "cvc-key");
    EXPECT_EQ(retry.result(), http::status::created);
    EXPECT_EQ(retry["Idempotent-Replayed"], "true");
    EXPECT_EQ(retry.body(), first.body());
    EXPECT_EQ(processor_charges(), 1);

    // The same request under a new key, with three different codes: one fingerprint for all.
    auto other = payment_body("4242424242424242", "cvc-bill-2");
    std::set<std::string> fingerprints;
    for (const char* cvc : {"000", "123", "999"}) {
        other["card"].as_object()["cvc"] = cvc;
        auto res = pay(c, other, "cvc-key-2");
        EXPECT_TRUE(res.result() == http::status::created) << "cvc case " << cvc;
        fingerprints.insert(
            text("SELECT request_fingerprint FROM idempotency_keys WHERE key = 'cvc-key-2'"));
    }
    EXPECT_EQ(fingerprints.size(), 1u);
    EXPECT_EQ(text("SELECT request_fingerprint FROM idempotency_keys WHERE key = 'cvc-key'"), kept);
}

TEST_F(Idempotency, KeysAreScopedToTheClient) {
    start();
    auto c = client();
    EXPECT_EQ(pay(c, payment_body("4242424242424242", "a"), "shared").result(),
              http::status::created);
    auto other = pay(c, payment_body("4242424242424242", "b", 100), "shared", other_portal_key);
    EXPECT_EQ(other.result(), http::status::created);
    EXPECT_EQ(count("SELECT count(*) FROM payments"), 2);
}

TEST_F(Idempotency, APostWithoutAKeyIs400) {
    start();
    auto c = client();
    auto res = c.request(http::verb::post, "/v1/payments",
                         json::serialize(payment_body("4242424242424242")), auth(portal_key));
    EXPECT_EQ(res.result(), http::status::bad_request);
    EXPECT_EQ(json_of(res).at("error").at("code"), "idempotency_key_missing");
    EXPECT_EQ(table_counts(), "0/0/0/0/0");
}

TEST_F(Idempotency, ARepeatWhileTheFirstIsRunningIs409) {
    config.extra_root = clients_yaml() + gateway_yaml(600) + payments_yaml();
    start();
    auto slow = std::async(std::launch::async, [&] {
        auto c = client();
        return pay(c, payment_body("4242424242424242"), "running");
    });
    std::this_thread::sleep_for(300ms);
    auto c = client();
    auto res = pay(c, payment_body("4242424242424242"), "running");
    EXPECT_EQ(res.result(), http::status::conflict);
    EXPECT_EQ(json_of(res).at("error").at("code"), "idempotency_key_in_use");
    EXPECT_EQ(slow.get().result(), http::status::created);
}

/// Fires `n` identical requests at once from `n` connections spread over `ports`.
std::vector<http_response> fire_at_once(int n, const std::vector<unsigned short>& ports,
                                        const std::string& body, const std::string& key) {
    std::atomic<bool> go{false};
    std::vector<std::future<http_response>> futures;
    for (int i = 0; i < n; ++i) {
        futures.push_back(std::async(std::launch::async, [&, i] {
            https_client c(ports[static_cast<std::size_t>(i) % ports.size()]);
            c.connect();
            while (!go) {
                std::this_thread::yield();
            }
            return c.request(http::verb::post, "/v1/payments", body,
                             {{"Authorization", "Bearer " + portal_key}, {"Idempotency-Key", key}});
        }));
    }
    go = true;
    std::vector<http_response> out;
    for (auto& f : futures) {
        out.push_back(f.get());
    }
    return out;
}

void expect_one_charge(const std::vector<http_response>& responses) {
    std::set<std::string> bodies;
    int created = 0;
    for (const auto& r : responses) {
        if (r.result() == http::status::created) {
            ++created;
            bodies.insert(r.body());
        } else {
            // The others wait for the first: never "possible duplicate", which would invite a
            // second payment under a new key.
            EXPECT_EQ(r.result(), http::status::conflict) << r.body();
            EXPECT_EQ(json_of(r).at("error").at("code"), "idempotency_key_in_use") << r.body();
        }
    }
    EXPECT_GE(created, 1);
    EXPECT_EQ(bodies.size(), 1u);  // every success is the one payment
}

TEST_F(Idempotency, FiftyConcurrentRequestsWithOneKeyChargeOnce) {
    config.extra_root = clients_yaml() + gateway_yaml(50) + payments_yaml();
    start();
    auto responses = fire_at_once(50, {daemon->port()},
                                  json::serialize(payment_body("4242424242424242")), "burst");
    expect_one_charge(responses);
    EXPECT_EQ(count("SELECT count(*) FROM payments"), 1);
    EXPECT_EQ(processor_charges(), 1);
}

TEST_F(Idempotency, TwoProcessesSharingTheDatabaseChargeOnce) {
    config.extra_root = clients_yaml() + gateway_yaml(50) + payments_yaml();
    start();
    daemon_process second(dir / "billpayd.yaml");
    second.wait_ready();
    auto responses =
        fire_at_once(50, {daemon->port(), second.port()},
                     json::serialize(payment_body("4242424242424242")), "two-processes");
    expect_one_charge(responses);
    EXPECT_EQ(processor_charges(), 1);
}

TEST_F(Idempotency, ASecondPaymentOfTheSameBillNeedsConfirmation) {
    start();
    auto c = client();
    auto first = pay(c, payment_body("4242424242424242", "2026-11"), "bill-1");
    auto first_id = json_of(first).at("id");
    auto second = pay(c, payment_body("5555555555554444", "2026-11", 5000), "bill-2");
    EXPECT_EQ(second.result(), http::status::conflict);
    EXPECT_EQ(json_of(second).at("error").at("code"), "possible_duplicate_payment");
    EXPECT_EQ(json_of(second).at("error").at("payment"), first_id);
    EXPECT_EQ(count("SELECT count(*) FROM payments"), 1);

    auto confirmed = payment_body("5555555555554444", "2026-11", 5000);
    confirmed["confirm_duplicate"] = true;
    EXPECT_EQ(pay(c, confirmed, "bill-3").result(), http::status::created);

    // A declined first attempt does not block paying the bill.
    auto declined = pay(c, payment_body("4000000000000002", "2026-12"), "bill-4");
    EXPECT_EQ(declined.result(), http::status::payment_required);
    EXPECT_EQ(pay(c, payment_body("4242424242424242", "2026-12"), "bill-5").result(),
              http::status::created);
}

TEST_F(Idempotency, TwoRequestsRacingOnAnExpiredLeaseUnderASlowStoreChargeOnce) {
    start();
    const auto body = payment_body("4242424242424242", "2026-11");
    // The store is slow: no payment can be recorded until this transaction ends (SHARE mode
    // lets keys be claimed, it holds back every write to payments).
    pqxx::connection blocker(database.dsn());
    pqxx::work hold(blocker);
    hold.exec("LOCK TABLE payments IN SHARE MODE");

    auto first = std::async(std::launch::async, [&] {
        https_client c(daemon->port());
        return pay(c, body, "slow-store");
    });
    // The first request claimed the key and waits to record its payment. Its lease (the
    // gateway timeout, 1 s, plus its margin) runs out meanwhile; a retry arrives.
    std::this_thread::sleep_for(2500ms);
    auto second = std::async(std::launch::async, [&] {
        https_client c(daemon->port());
        return pay(c, body, "slow-store");
    });
    std::this_thread::sleep_for(700ms);
    hold.commit();

    // One payment is made. Each answer is that payment (the later one replayed) or 409
    // idempotency_key_in_use: never that the bill was paid, which a request that lost its key
    // must not say, and never a second charge.
    auto a = first.get();
    auto b = second.get();
    const bool first_paid = a.result() == http::status::created;
    const auto& paid = first_paid ? a : b;
    const auto& other = first_paid ? b : a;
    ASSERT_EQ(paid.result(), http::status::created) << paid.body();
    if (other.result() == http::status::created) {
        EXPECT_EQ(other.body(), paid.body());
    } else {
        EXPECT_EQ(other.result(), http::status::conflict) << other.body();
        EXPECT_EQ(json_of(other).at("error").at("code"), "idempotency_key_in_use") << other.body();
    }
    EXPECT_EQ(count("SELECT count(*) FROM payments"), 1);
    EXPECT_EQ(processor_charges(), 1);
    EXPECT_THAT(ledger_disagreements(), ::testing::IsEmpty());
    // And the key answers for the payment that was made.
    auto c = client();
    auto replay = pay(c, body, "slow-store");
    EXPECT_EQ(replay.body(), paid.body());
}

}  // namespace
