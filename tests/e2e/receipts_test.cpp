// Receipts reach the correspondence system exactly once per message, through outages, crashes
// and several billpayd processes; the fake receiver checks every signature.
#include <gmock/gmock.h>
#include <signal.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <future>

#include "tests/e2e/payments_fixture.hpp"
#include "tests/fakes/correspondence_server.hpp"

namespace {

using namespace billpay::test;
using namespace std::chrono_literals;
namespace json = boost::json;

const std::string webhook_secret = "whsec-test-5b7e1f0a9c3d2e4f6a8b0c1d2e3f4a5b";

class Receipts : public payments_fixture {
  protected:
    void SetUp() override {
        payments_fixture::SetUp();
        receiver_cert = make_certificate(dir.path(), "receiver", "localhost", ca);
        receiver = std::make_unique<correspondence_server>(receiver_cert, webhook_secret);
        use_webhook();
    }

    void use_webhook(int recovery_after_ms = 2000) {
        config.correspondence =
            "correspondence:\n"
            "  transport: webhook\n"
            "  poll_interval_ms: 300\n"
            "  retry_base_ms: 100\n"
            "  retry_max_ms: 500\n"
            "  webhook:\n"
            "    url: " +
            receiver->url() +
            "\n"
            "    signing_secret: \"" +
            webhook_secret +
            "\"\n"
            "    ca_file: " +
            ca.certificate.string() +
            "\n"
            "    timeout_ms: 1000\n";
        config.extra_root = clients_yaml() + gateway_yaml() + payments_yaml(recovery_after_ms);
    }

    /// Pays `n` bills from `workers` connections; returns the payment ids.
    std::vector<std::string> pay_many(int n, int workers, const std::string& prefix) {
        std::atomic<int> next{0};
        std::mutex m;
        std::vector<std::string> ids;
        std::vector<std::future<void>> futures;
        for (int w = 0; w < workers; ++w) {
            futures.push_back(std::async(std::launch::async, [&] {
                https_client c(daemon->port());
                for (int i = next++; i < n; i = next++) {
                    auto res = pay(
                        c, payment_body("4242424242424242", prefix + std::to_string(i), 1000 + i),
                        prefix + std::to_string(i));
                    EXPECT_EQ(res.result(), http::status::created) << res.body();
                    std::lock_guard lock(m);
                    ids.push_back(std::string(json_of(res).at("id").as_string()));
                }
            }));
        }
        for (auto& f : futures) {
            f.get();
        }
        return ids;
    }

    /// The receiver's messages by (payment id, type).
    std::map<std::pair<std::string, std::string>, int> messages_by_payment() {
        std::map<std::pair<std::string, std::string>, int> out;
        for (const auto& [id, body] : receiver->bodies()) {
            auto doc = json::parse(body);
            ++out[{std::string(doc.at("payment").at("id").as_string()),
                   std::string(doc.at("type").as_string())}];
        }
        return out;
    }

    tls_files receiver_cert;
    std::unique_ptr<correspondence_server> receiver;
};

TEST_F(Receipts, EveryPaymentYieldsExactlyOneDistinctMessageOfEachKind) {
    start();
    auto c = client();
    auto ok = json_of(pay(c, payment_body("4242424242424242", "a"), "a")).at("id");
    auto declined = json_of(pay(c, payment_body("4000000000000002", "b"), "b"))
                        .at("error")
                        .at("payment")
                        .at("id");
    auto pending = json_of(pay(c, payment_body("4000000000000259", "c"), "c")).at("id");
    // receipt, declined notice, pending notice, and the receipt that follows recovery
    ASSERT_TRUE(receiver->wait_for_distinct(4, 15s));
    auto by_payment = messages_by_payment();
    EXPECT_EQ(by_payment.size(), 4u);
    EXPECT_EQ((by_payment[{std::string(ok.as_string()), "payment_receipt"}]), 1);
    EXPECT_EQ((by_payment[{std::string(declined.as_string()), "payment_declined"}]), 1);
    EXPECT_EQ((by_payment[{std::string(pending.as_string()), "payment_pending"}]), 1);
    EXPECT_EQ((by_payment[{std::string(pending.as_string()), "payment_receipt"}]), 1);
    EXPECT_EQ(receiver->bad_signatures(), 0);

    // What a receipt says: the confirmation, amount, card brand and last 4; no card number.
    for (const auto& [id, body] : receiver->bodies()) {
        auto doc = json::parse(body);
        if (doc.at("type") == "payment_receipt" && doc.at("payment").at("id") == ok) {
            EXPECT_THAT(std::string(doc.at("id").as_string()), ::testing::StartsWith("rcpt_"));
            EXPECT_EQ(doc.at("payment").at("amount"), 12500);
            EXPECT_EQ(doc.at("payment").at("card").at("last4"), "4242");
            EXPECT_EQ(doc.at("customer").at("email"), "ada@example.com");
            EXPECT_EQ(doc.at("account_number"), "1001-2002");
            EXPECT_TRUE(doc.at("payment").at("paid_at").is_string());
        }
        EXPECT_EQ(body.find("4242424242424242"), std::string::npos);
    }
}

TEST_F(Receipts, AnOutageSlowsNoPaymentAndLosesNoReceipt) {
    receiver->stop();  // connections refused
    start();
    auto started = std::chrono::steady_clock::now();
    auto ids = pay_many(1000, 8, "outage-");
    auto took = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(ids.size(), 1000u);
    EXPECT_EQ(client().request(http::verb::get, "/readyz").result(), http::status::ok);
    auto ops_client = client();
    auto metrics = get(ops_client, "/metrics", ops_key).body();
    EXPECT_THAT(metrics, ::testing::HasSubstr("billpay_outbox_backlog"));
    EXPECT_EQ(count("SELECT count(*) FROM outbox_messages WHERE status = 'pending'"), 1000);

    receiver->start();
    EXPECT_TRUE(receiver->wait_for_distinct(1000, 60s)) << receiver->accepted().size();
    EXPECT_TRUE(receiver->conflicting_ids().empty());
    EXPECT_EQ(messages_by_payment().size(), 1000u);  // one message per payment, none twice
    EXPECT_LT(took, 60s);
}

TEST_F(Receipts, AReceiverThatFailsGetsItsMessagesWhenItRecovers) {
    receiver->set_mode(correspondence_server::mode::fail);
    start();
    pay_many(20, 4, "fail-");
    std::this_thread::sleep_for(1s);
    EXPECT_TRUE(receiver->accepted().empty());
    EXPECT_GT(count("SELECT count(*) FROM outbox_attempts WHERE outcome = 'retry'"), 0);
    receiver->set_mode(correspondence_server::mode::accept);
    EXPECT_TRUE(receiver->wait_for_distinct(20, 20s));
}

TEST_F(Receipts, KillNineDuringDeliveryThenRestartStillDeliversEverything) {
    receiver->set_delay(50ms);
    start();
    pay_many(200, 8, "crash-");
    daemon->send_signal(SIGKILL);
    daemon->wait_exit();
    auto before = receiver->accepted().size();
    EXPECT_LT(before, 200u);  // the kill landed during delivery
    write_config(dir.path(), config);
    daemon = std::make_unique<daemon_process>(dir / "billpayd.yaml");
    daemon->wait_ready();
    EXPECT_TRUE(receiver->wait_for_distinct(200, 30s));
    EXPECT_TRUE(receiver->conflicting_ids().empty());
    EXPECT_EQ(messages_by_payment().size(), 200u);
}

TEST_F(Receipts, TwoProcessesShareTheOutboxWithoutSendingAMessageTwice) {
    receiver->stop();
    start();
    daemon_process second(dir / "billpayd.yaml");
    second.wait_ready();
    pay_many(300, 8, "shared-");
    receiver->start();
    ASSERT_TRUE(receiver->wait_for_distinct(300, 30s));
    std::this_thread::sleep_for(500ms);
    for (const auto& [id, times] : receiver->accepted()) {
        EXPECT_EQ(times, 1) << id;
    }
    // Both processes did some of the work.
    EXPECT_EQ(
        count("SELECT count(DISTINCT actor) FROM outbox_attempts WHERE outcome = 'delivered'"), 2);
}

TEST_F(Receipts, APermanentRefusalDeadLettersAndReplaySendsItAgain) {
    receiver->set_mode(correspondence_server::mode::reject);
    start();
    auto c = client();
    pay(c, payment_body("4242424242424242", "dead"), "dead");
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (count("SELECT count(*) FROM outbox_messages WHERE status = 'dead'") == 0 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(count("SELECT count(*) FROM outbox_messages WHERE status = 'dead'"), 1);
    EXPECT_EQ(count("SELECT attempts FROM outbox_messages"), 1);  // dead at once, no retries
    EXPECT_TRUE(daemon->wait_for_log("dead-lettered", 2s));

    auto ctl =
        built_program("billpayctl").string() + " --config " + (dir / "billpayd.yaml").string();
    auto listed = capture_command(ctl + " receipts list --status dead");
    EXPECT_THAT(listed, ::testing::HasSubstr("payment_receipt"));
    EXPECT_THAT(listed, ::testing::HasSubstr("dead-lettered: 1"));

    receiver->set_mode(correspondence_server::mode::accept);
    pqxx::connection conn(database.dsn());
    std::string id =
        pqxx::read_transaction(conn).exec("SELECT id FROM outbox_messages")[0][0].c_str();
    EXPECT_EQ(run_command(ctl + " receipts replay " + id + " >/dev/null"), 0);
    EXPECT_TRUE(receiver->wait_for_distinct(1, 10s));
    EXPECT_EQ(count("SELECT count(*) FROM outbox_attempts WHERE outcome = 'replayed'"), 1);
    EXPECT_EQ(run_command(ctl + " receipts replay rcpt_nosuchmessage 2>/dev/null"), 1);
}

TEST_F(Receipts, TheFakeRejectsAWrongSecretOrAStaleTimestamp) {
    // Proves the fake checks what it is meant to check.
    https_client c(receiver->port(), {.trusted_ca = ca.certificate});
    std::string body = R"({"id":"rcpt_x","type":"payment_receipt"})";
    auto send = [&](const std::string& secret, long long t) {
        std::string ts = std::to_string(t);
        return c.request(http::verb::post, "/receipts", body,
                         {{"Idempotency-Key", "rcpt_x"},
                          {"Billpay-Signature",
                           "t=" + ts + ",v1=" + receiver_hmac_hex(secret, ts + "." + body)}});
    };
    long long now = std::time(nullptr);
    EXPECT_EQ(send(webhook_secret, now).result(), http::status::ok);
    EXPECT_EQ(send("wrong-secret", now).result(), http::status::bad_request);
    EXPECT_EQ(send(webhook_secret, now - 3600).result(), http::status::bad_request);
    EXPECT_EQ(receiver->bad_signatures(), 2);
}

TEST_F(Receipts, TheSpoolTransportWritesOneFilePerMessage) {
    config.correspondence = "";  // the default: spool into <config dir>/spool
    config.extra_root = clients_yaml() + gateway_yaml() + payments_yaml();
    start();
    auto c = client();
    pay(c, payment_body("4242424242424242", "s1"), "s1");
    pay(c, payment_body("4000000000000002", "s2"), "s2");
    auto deadline = std::chrono::steady_clock::now() + 10s;
    std::vector<std::filesystem::path> files;
    while (files.size() < 2 && std::chrono::steady_clock::now() < deadline) {
        files.clear();
        for (const auto& f : std::filesystem::directory_iterator(dir / "spool")) {
            // A reader takes *.json only: a file being written is a hidden *.json.tmp.
            if (f.path().extension() == ".json" && !f.path().filename().string().starts_with(".")) {
                files.push_back(f.path());
            }
        }
        std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(files.size(), 2u);
    for (const auto& f : files) {
        auto doc = json::parse(read_file(f));
        EXPECT_EQ(f.filename().string(), std::string(doc.at("id").as_string()) + ".json");
    }
}

TEST_F(Receipts, AConnectionTheReceiverClosedWhileIdleCostsNoDeliveryAttempt) {
    // Like a server with a short keep-alive (Node's is 5 s): idle connections closed after 1 s.
    receiver->close_idle_after(1s);
    start();
    auto c = client();
    pay(c, payment_body("4242424242424242", "idle-1"), "idle-1");
    ASSERT_TRUE(receiver->wait_for_distinct(1, 10s));
    std::this_thread::sleep_for(2s);  // the kept-alive connection is closed by the receiver
    pay(c, payment_body("4242424242424242", "idle-2"), "idle-2");
    ASSERT_TRUE(receiver->wait_for_distinct(2, 10s));
    // Every message went through at its first attempt: no retry, no failure logged.
    EXPECT_EQ(count("SELECT count(*) FROM outbox_attempts WHERE outcome <> 'delivered'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM outbox_attempts"), 2);
    EXPECT_GE(receiver->connections(), 2);  // the second went on a new connection
}

}  // namespace
