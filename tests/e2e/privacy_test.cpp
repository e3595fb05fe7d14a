// The privacy policy as behaviour (docs/privacy.md): retention reduces old records and keeps
// what finance needs, a customer's export holds all of their account and nothing of another's,
// a corrected email receives later notices, breach notices reach each affected address once
// through the real outbox, metadata keys are limited, and the audit chain's signed checkpoints
// catch rows cut from its end.
#include <gmock/gmock.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <future>
#include <set>

#include "store/audit.hpp"
#include "tests/e2e/payments_fixture.hpp"
#include "tests/fakes/correspondence_server.hpp"

namespace {

using namespace billpay::test;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
namespace json = boost::json;

const std::string webhook_secret = "whsec-test-privacy-0a1b2c3d4e5f60718293a4b5c6d7e8f9";

class Privacy : public payments_fixture {
  protected:
    void exec(const std::string& sql) {
        pqxx::connection conn(database.dsn());
        pqxx::work tx(conn);
        tx.exec(sql);
        tx.commit();
    }

    /// A paid bill of `account` by `name` <`email`>; its id.
    std::string pay_as(https_client& c, const std::string& account, const std::string& bill,
                       const std::string& name, const std::string& email,
                       std::int64_t amount = 5000) {
        auto body = payment_body("4242424242424242", bill, amount, account);
        body["customer"] = json::object{{"name", name}, {"email", email}};
        auto res = pay(c, body, account + "-" + bill);
        EXPECT_EQ(res.result(), http::status::created) << res.body();
        return std::string(json_of(res).at("id").as_string());
    }

    http_response refund(https_client& c, const std::string& id, std::int64_t amount,
                         const std::string& reason) {
        return post(c, "/v1/payments/" + id + "/refunds",
                    json::object{{"amount", amount}, {"reason", reason}}, finance_key,
                    "refund-" + id + "-" + std::to_string(amount));
    }

    /// Moves a payment and everything of it `days` into the past, as if it were that old.
    void backdate(const std::string& payment_id, int days) {
        const std::string by = "make_interval(days => " + std::to_string(days) + ")";
        const std::string id = "'" + payment_id + "'";
        exec("UPDATE payments SET created_at = created_at - " + by +
             ", updated_at = updated_at - " + by + " WHERE id = " + id);
        exec("UPDATE refunds SET created_at = created_at - " + by + ", updated_at = updated_at - " +
             by + " WHERE payment_id = " + id);
        exec("UPDATE idempotency_keys SET created_at = created_at - " + by +
             " WHERE payment_id = " + id);
        exec("UPDATE outbox_messages SET created_at = created_at - " + by +
             " WHERE payment_id = " + id);
    }

    std::string dump() {
        return capture_command("pg_dump --data-only --inserts -d '" + database.dsn() + "'");
    }

    /// Waits until no message is waiting to be sent.
    void wait_delivered() {
        auto deadline = std::chrono::steady_clock::now() + 15s;
        while (count("SELECT count(*) FROM outbox_messages WHERE status = 'pending'") > 0 &&
               std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(50ms);
        }
        ASSERT_EQ(count("SELECT count(*) FROM outbox_messages WHERE status = 'pending'"), 0);
    }

    http_response request(https_client& c, http::verb verb, const std::string& target,
                          const std::string& body, const std::string& key,
                          const std::string& content_type = "application/json") {
        auto headers = auth(key);
        if (!content_type.empty()) {
            headers["Content-Type"] = content_type;
        }
        return c.request(verb, target, body, headers);
    }

    /// The time `offset` (a PostgreSQL interval) from now, RFC 3339 UTC.
    std::string time_from_now(const std::string& offset) {
        return text("SELECT to_char((now() + interval '" + offset +
                    "') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')");
    }
};

TEST_F(Privacy, RetentionReducesOldPaymentsAndKeepsWhatFinanceNeeds) {
    start();
    auto c = client();
    const auto old_id =
        pay_as(c, "2001-0001", "2025-01", "Oldena Purgeworth", "oldena@example.org");
    ASSERT_EQ(refund(c, old_id, 1500, "household moved away").result(), http::status::created);
    const auto recent_id =
        pay_as(c, "2001-0002", "2026-11", "Recenta Keepwell", "recenta@example.org");
    wait_delivered();
    auto before = json_of(get(c, "/v1/payments/" + old_id + "?account_number=2001-0001"));

    // The old payment is past retention.payment_days (540); the recent one's idempotency key
    // and receipt are past theirs (7 and 30 days), the payment itself is not.
    backdate(old_id, 600);
    exec(
        "UPDATE idempotency_keys SET created_at = created_at - interval '8 days'"
        " WHERE payment_id = '" +
        recent_id + "'");
    exec(
        "UPDATE outbox_messages SET created_at = created_at - interval '31 days'"
        " WHERE payment_id = '" +
        recent_id + "'");
    const auto old_day = text(
        "SELECT to_char((created_at AT TIME ZONE 'America/Chicago')::date,"
        " 'YYYY-MM-DD') FROM payments WHERE id = '" +
        old_id + "'");
    // Reconciliation's findings, without the run's own id (each run has a new one).
    const auto reconcile = [&] {
        auto out = capture_command(ctl() + " reconcile --from " + old_day + " --to " + old_day +
                                   "; echo exit=$?");
        return out.substr(out.find(','));
    };
    const auto reconciled_before = reconcile();
    ASSERT_THAT(reconciled_before, HasSubstr("2 exceptions"));  // never settled (no file given)
    const auto report_before =
        capture_command(ctl() + " report daily --from " + old_day + " --to " + old_day);
    ASSERT_THAT(report_before, HasSubstr("50.00"));

    // A dry run counts and changes nothing.
    auto dry = capture_command(ctl() + " purge --dry-run");
    EXPECT_THAT(dry, ::testing::ContainsRegex("payments_reduced +1\n"));
    EXPECT_THAT(dry, ::testing::ContainsRegex("refunds_reduced +1\n"));
    EXPECT_THAT(dry, ::testing::ContainsRegex("idempotency_keys_deleted +2\n"));
    EXPECT_THAT(dry, HasSubstr("dry run: nothing was changed"));
    EXPECT_EQ(count("SELECT count(*) FROM payments WHERE reduced_at IS NULL"), 2);
    ASSERT_THAT(dump(), HasSubstr("oldena@example.org"));

    auto purged = capture_command(ctl() + " purge; echo exit=$?");
    EXPECT_THAT(purged, HasSubstr("exit=0"));
    EXPECT_EQ(count("SELECT count(*) FROM payments WHERE reduced_at IS NOT NULL"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM refunds WHERE reduced_at IS NOT NULL"), 1);

    // None of the purged personal data is left anywhere in the database.
    const auto after = dump();
    for (const char* gone : {"Oldena", "Purgeworth", "oldena@example.org"}) {
        EXPECT_THAT(after, Not(HasSubstr(gone))) << gone;
    }
    // The recent payment is whole; its key and its receipt's body are gone.
    EXPECT_THAT(after, HasSubstr("recenta@example.org"));
    EXPECT_EQ(count("SELECT count(*) FROM idempotency_keys WHERE payment_id = '" + recent_id + "'"),
              0);
    EXPECT_EQ(count("SELECT count(*) FROM outbox_messages WHERE payment_id = '" + recent_id +
                    "' AND body IS NULL AND body_purged_at IS NOT NULL"),
              1);

    // What finance needs stays: amounts, status, dates, references, the account number.
    auto reduced = json_of(get(c, "/v1/payments/" + old_id + "?account_number=2001-0001"));
    EXPECT_EQ(reduced.at("customer"), json::value(nullptr));
    EXPECT_EQ(reduced.at("metadata"), json::object());
    for (const char* kept :
         {"amount", "amount_refunded", "currency", "status", "processor_reference", "bill_id"}) {
        EXPECT_EQ(reduced.at(kept), before.at(kept)) << kept;
    }
    EXPECT_EQ(reduced.at("status"), "partially_refunded");
    EXPECT_EQ(capture_command(ctl() + " report daily --from " + old_day + " --to " + old_day),
              report_before);
    EXPECT_EQ(reconcile(), reconciled_before);
    EXPECT_EQ(run_command(ctl() + " audit verify >/dev/null"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE action = 'retention.purged'"
                    " AND details LIKE '%\"payments_reduced\":1%'"),
              1);

    // A delivered message whose body was purged cannot be sent again, and says why.
    auto message = text("SELECT id FROM outbox_messages WHERE payment_id = '" + recent_id + "'");
    auto replay = capture_command(ctl() + " receipts replay " + message + " 2>&1; echo exit=$?");
    EXPECT_THAT(replay, HasSubstr("purged under retention"));
    EXPECT_THAT(replay, HasSubstr("exit=1"));

    // Nothing is left to purge: a second run changes nothing (and is audited with zeros).
    auto again = capture_command(ctl() + " purge");
    EXPECT_THAT(again, Not(HasSubstr(" 1\n")));
    EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE action = 'retention.purged'"), 2);
}

TEST_F(Privacy, APendingPaymentIsReducedOnlyOnceItIsFinal) {
    start();
    auto c = client();
    const auto id = pay_as(c, "2001-0003", "2025-02", "Pendra Waitwell", "pendra@example.org");
    const auto older = pay_as(c, "2001-0004", "2025-03", "Olive Older", "olive@example.org");
    const auto newer = pay_as(c, "2001-0005", "2025-03", "Nora Newer", "nora@example.org");
    daemon.reset();  // its recovery worker would look the pending payment up and finish it
    exec("ALTER TABLE payments DISABLE TRIGGER payments_status_transition");
    exec("UPDATE payments SET status = 'pending' WHERE id = '" + id + "'");
    exec("ALTER TABLE payments ENABLE TRIGGER payments_status_transition");
    backdate(id, 900);
    backdate(older, 950);
    backdate(newer, 600);
    ASSERT_EQ(run_command(ctl() + " purge >/dev/null"), 0);
    EXPECT_EQ(text("SELECT customer_email FROM payments WHERE id = '" + id + "'"),
              "pendra@example.org");
    EXPECT_EQ(count("SELECT count(*) FROM payments WHERE reduced_at IS NOT NULL"), 2);
    // Its Idempotency-Key stays too: a retry with it must find the payment, not make another.
    EXPECT_EQ(count("SELECT count(*) FROM idempotency_keys WHERE payment_id = '" + id + "'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM idempotency_keys WHERE payment_id = '" + older + "'"), 0);
    // Once the processor's answer is learned, the next purge reduces it: the purge's watermark
    // stayed behind the payment still pending.
    exec("UPDATE payments SET status = 'succeeded' WHERE id = '" + id + "'");
    ASSERT_EQ(run_command(ctl() + " purge >/dev/null"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM payments WHERE customer_email IS NOT NULL"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM idempotency_keys WHERE payment_id = '" + id + "'"), 0);
}

TEST_F(Privacy, AnExportHoldsAllOfOneAccountAndNothingOfAnother) {
    start();
    auto c = client();
    auto saved = payment_body("5555555555554444", "2026-10", 4200, "3001-000A");
    saved["customer"] = json::object{{"name", "Alma Exportova"}, {"email", "alma@example.org"}};
    saved["save_payment_method"] = true;
    auto first = pay(c, saved, "a-1");
    ASSERT_EQ(first.result(), http::status::created) << first.body();
    const std::string a1(json_of(first).at("id").as_string());
    const std::string method(json_of(first).at("payment_method").as_string());
    const auto a2 = pay_as(c, "3001-000A", "2026-11", "Alma Exportova", "alma@example.org");
    ASSERT_EQ(refund(c, a2, 700, "meter misread").result(), http::status::created);
    ASSERT_EQ(c.request(http::verb::delete_,
                        "/v1/payment_methods/" + method + "?account_number=3001-000A", "",
                        auth(portal_key))
                  .result(),
              http::status::ok);
    const auto b1 = pay_as(c, "3001-000B", "2026-11", "Bruno Otherman", "bruno@example.org");
    wait_delivered();

    auto exported = capture_command(ctl() + " customer export --account 3001-000A");
    auto doc = json::parse(exported);
    EXPECT_EQ(doc.at("object"), "customer_export");
    std::set<std::string> payments;
    for (const auto& p : doc.at("payments").as_array()) {
        payments.insert(std::string(p.at("id").as_string()));
        EXPECT_EQ(p.at("customer").at("email"), "alma@example.org");
    }
    EXPECT_EQ(payments, (std::set<std::string>{a1, a2}));
    ASSERT_EQ(doc.at("refunds").as_array().size(), 1u);
    EXPECT_EQ(doc.at("refunds").at(0).at("payment"), json::value(a2));
    ASSERT_EQ(doc.at("payment_methods").as_array().size(), 1u);
    const auto& card = doc.at("payment_methods").at(0);
    EXPECT_EQ(card.at("deleted"), true);
    EXPECT_EQ(card.at("card").at("last4"), "4444");
    EXPECT_EQ(card.at("card").at("expiry"), json::value(nullptr));  // deleted at once
    EXPECT_GE(doc.at("messages").as_array().size(), 3u);  // two receipts and a refund receipt
    std::set<std::string> actions;
    for (const auto& a : doc.at("audit").as_array()) {
        actions.insert(std::string(a.at("action").as_string()));
    }
    EXPECT_TRUE(actions.contains("refund.requested"));
    EXPECT_TRUE(actions.contains("customer.exported"));  // this export's own row

    // Nothing of account B, and no card data beyond brand, last 4 and expiry.
    for (const std::string& other :
         {b1, std::string("3001-000B"), std::string("Bruno"), std::string("bruno@example.org")}) {
        EXPECT_THAT(exported, Not(HasSubstr(other))) << other;
    }
    EXPECT_THAT(exported, Not(HasSubstr("fingerprint")));
    EXPECT_THAT(exported, Not(HasSubstr("5555555555554444")));

    auto csv = capture_command(ctl() + " customer export --account 3001-000A --format csv");
    EXPECT_THAT(csv, HasSubstr("payment," + a1 + ","));
    EXPECT_THAT(csv, HasSubstr("payment_method," + method + ",,"));
    EXPECT_THAT(csv, Not(HasSubstr("bruno@example.org")));

    // The API: finance, and the portal for the account it names; not ops.
    auto by_finance = get(c, "/v1/accounts/3001-000A/export", finance_key);
    ASSERT_EQ(by_finance.result(), http::status::ok) << by_finance.body();
    EXPECT_EQ(json_of(by_finance).at("payments").as_array().size(), 2u);
    EXPECT_EQ(get(c, "/v1/accounts/3001-000A/export").result(), http::status::ok);
    EXPECT_EQ(get(c, "/v1/accounts/3001-000A/export", ops_key).result(), http::status::forbidden);
    auto unknown = get(c, "/v1/accounts/9999-0000/export", finance_key);
    EXPECT_EQ(unknown.result(), http::status::not_found);
    EXPECT_EQ(json_of(unknown).at("error").at("param"), "account_number");
    EXPECT_EQ(get(c, "/v1/accounts/bad%21acct/export", finance_key).result(),
              http::status::bad_request);
    EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE action = 'customer.exported'"
                    " AND records = '3001-000A'"),
              4);
    EXPECT_EQ(run_command(ctl() + " customer export --account 9999-0000 2>/dev/null"), 1);
}

TEST_F(Privacy, ExportsAmongOtherAuditedActionsKeepTheChainWhole) {
    start();
    auto c = client();
    const auto id = pay_as(c, "3002-0001", "2026-11", "Chain Keeper", "chain@example.org");
    // Exports and audited reads at once: each appends to the one hash chain.
    std::vector<std::future<http::status>> calls;
    for (int i = 0; i < 16; ++i) {
        calls.push_back(std::async(std::launch::async, [&, i] {
            https_client own(daemon->port());
            return i % 2 == 0 ? get(own, "/v1/accounts/3002-0001/export", finance_key).result()
                              : get(own, "/v1/payments/" + id, finance_key).result();
        }));
    }
    for (auto& call : calls) {
        EXPECT_EQ(call.get(), http::status::ok);
    }
    EXPECT_EQ(count("SELECT count(*) FROM audit_log"), 16);
    auto verdict = capture_command(ctl() + " audit verify; echo exit=$?");
    EXPECT_THAT(verdict, HasSubstr("16 rows"));
    EXPECT_THAT(verdict, HasSubstr("exit=0"));
}

TEST_F(Privacy, ACorrectedEmailReceivesLaterNoticesWhilePaymentsKeepTheirs) {
    start();
    auto c = client();
    const auto id = pay_as(c, "4001-0001", "2026-11", "Cora Fixwell", "cora.old@example.org");
    const auto patch = [&](const std::string& body, const std::string& key = portal_key,
                           const std::string& type = "application/json") {
        return request(c, http::verb::patch, "/v1/accounts/4001-0001", body, key, type);
    };

    // Refused corrections change nothing.
    auto bad = patch(R"({"email": "not an address"})");
    EXPECT_EQ(bad.result(), http::status::bad_request);
    EXPECT_EQ(json_of(bad).at("error").at("param"), "email");
    EXPECT_EQ(json_of(patch(R"({"email": "a@example.org", "name": "x"})")).at("error").at("code"),
              "parameter_unknown");
    EXPECT_EQ(patch(R"({"email": "a@example.org"})", finance_key).result(),
              http::status::forbidden);
    EXPECT_EQ(patch(R"({"email": "a@example.org"})", portal_key, "text/plain").result(),
              http::status::unsupported_media_type);
    EXPECT_EQ(count("SELECT count(*) FROM account_contacts"), 0);

    auto fixed = patch(R"({"email": "cora.new@example.org"})");
    ASSERT_EQ(fixed.result(), http::status::ok) << fixed.body();
    EXPECT_EQ(json_of(fixed).at("email"), "cora.new@example.org");

    // The refund notice of the earlier payment goes to the corrected address …
    ASSERT_EQ(refund(c, id, 1000, "overpaid").result(), http::status::created);
    auto notice = json::parse(
        text("SELECT body FROM outbox_messages WHERE type = 'refund_receipt' AND payment_id = '" +
             id + "'"));
    EXPECT_EQ(notice.at("customer").at("email"), "cora.new@example.org");
    // … while the payment keeps the address it was sent to, for the record.
    auto payment = json_of(get(c, "/v1/payments/" + id + "?account_number=4001-0001"));
    EXPECT_EQ(payment.at("customer").at("email"), "cora.old@example.org");
    // The audit trail (never purged) records the correction, not the address.
    EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE action = 'account.email_corrected'"
                    " AND records = '4001-0001' AND details NOT LIKE '%cora%'"),
              1);
    // The export shows the correction.
    auto doc = json::parse(capture_command(ctl() + " customer export --account 4001-0001"));
    EXPECT_EQ(doc.at("contact").at("email"), "cora.new@example.org");
}

TEST_F(Privacy, MetadataKeysOutsideTheAllowListAreRefused) {
    start();
    auto c = client();
    auto body = payment_body("4242424242424242", "2026-11", 1000, "5001-0001");
    body["metadata"] = json::object{{"customer_note", "Mrs. Smith at 12 Elm St"}};
    auto before = table_counts();
    auto res = pay(c, body, "meta");
    ASSERT_EQ(res.result(), http::status::bad_request) << res.body();
    EXPECT_EQ(json_of(res).at("error").at("code"), "metadata_key_not_allowed");
    EXPECT_EQ(json_of(res).at("error").at("param"), "metadata");
    EXPECT_THAT(res.body(), Not(HasSubstr("customer_note")));
    EXPECT_THAT(res.body(), HasSubstr("portal_session"));
    EXPECT_EQ(table_counts(), before);
    body["metadata"] = json::object{{"portal_session", "s-42"}};
    EXPECT_EQ(pay(c, body, "meta-2").result(), http::status::created);
}

class BreachNotices : public Privacy {
  protected:
    void SetUp() override {
        Privacy::SetUp();
        receiver_cert = make_certificate(dir.path(), "receiver", "localhost", ca);
        receiver = std::make_unique<correspondence_server>(receiver_cert, webhook_secret);
        config.correspondence =
            "correspondence:\n"
            "  transport: webhook\n"
            "  poll_interval_ms: 200\n"
            "  retry_base_ms: 100\n"
            "  retry_max_ms: 500\n"
            "  webhook:\n"
            "    url: " +
            receiver->url() + "\n    signing_secret: \"" + webhook_secret +
            "\"\n    ca_file: " + ca.certificate.string() + "\n    timeout_ms: 1000\n";
    }

    /// The breach notices the receiver accepted: address -> the accounts each named.
    std::map<std::string, std::vector<std::string>> notices() {
        std::map<std::string, std::vector<std::string>> out;
        for (const auto& [id, body] : receiver->bodies()) {
            auto doc = json::parse(body);
            if (doc.at("type") != "breach_notice") {
                continue;
            }
            auto& accounts = out[std::string(doc.at("customer").at("email").as_string())];
            for (const auto& a : doc.at("account_numbers").as_array()) {
                accounts.emplace_back(a.as_string());
            }
            EXPECT_THAT(std::string(doc.at("notice").at("text").as_string()),
                        HasSubstr("INC-2026-07"));
        }
        return out;
    }

    tls_files receiver_cert;
    std::unique_ptr<correspondence_server> receiver;
};

TEST_F(BreachNotices, EachAffectedAddressIsNotifiedOnceAndNoOneElse) {
    start();
    auto c = client();
    pay_as(c, "6001-000A", "2026-11", "Ann Affected", "ann@example.org");
    pay_as(c, "6001-000B", "2026-11", "Ben Affected", "ben@example.org");
    // Ann's second account: the same address, written otherwise.
    pay_as(c, "6001-000D", "2026-11", "Ann Affected", "Ann@Example.org");
    // Outside the window: untouched …
    const auto carl = pay_as(c, "6001-000C", "2026-10", "Carl Untouched", "carl@example.org");
    backdate(carl, 30);
    // … and one whose old payment finance read during the window (an audited read).
    const auto eve = pay_as(c, "6001-000E", "2026-10", "Eve Wasread", "eve@example.org");
    backdate(eve, 30);
    ASSERT_EQ(get(c, "/v1/payments/" + eve, finance_key).result(), http::status::ok);
    ASSERT_TRUE(receiver->wait_for_distinct(5, 15s));

    const auto from = time_from_now("-1 hour");
    const auto to = time_from_now("1 hour");
    auto scope = capture_command(ctl() + " breach scope --from " + from + " --to " + to +
                                 " --incident INC-2026-07 2>/dev/null");
    EXPECT_THAT(scope, HasSubstr("6001-000A,ann@example.org"));
    EXPECT_THAT(scope, HasSubstr("6001-000B,ben@example.org"));
    EXPECT_THAT(scope, Not(HasSubstr("6001-000C")));
    EXPECT_THAT(scope, Not(HasSubstr("6001-000E")));
    auto with_reads = capture_command(ctl() + " breach scope --from " + from + " --to " + to +
                                      " --accounts-from-audit --incident INC-2026-07 2>/dev/null");
    EXPECT_THAT(with_reads, HasSubstr("6001-000E,eve@example.org"));
    EXPECT_THAT(with_reads, Not(HasSubstr("6001-000C")));

    const auto accounts = dir / "affected.csv";
    const auto form = dir / "notice.txt";
    write_file(accounts, with_reads);
    write_file(
        form,
        "About your utility payments (incident {{incident_id}})\n"
        "We have reason to believe that payment records of account {{account_numbers}} "
        "were disclosed in incident {{incident_id}}. No card numbers are held by the City.\n");
    const std::string notify = ctl() + " breach notify --incident INC-2026-07 --accounts " +
                               accounts.string() + " --template " + form.string();
    auto dry = capture_command(notify + " --dry-run");
    EXPECT_THAT(dry, HasSubstr("would queue 3 breach_notice"));
    EXPECT_EQ(count("SELECT count(*) FROM outbox_messages WHERE type = 'breach_notice'"), 0);

    auto sent = capture_command(notify);
    EXPECT_THAT(sent, HasSubstr("queued 3 breach_notice"));
    ASSERT_TRUE(receiver->wait_for_distinct(8, 15s));
    auto received = notices();
    ASSERT_EQ(received.size(), 3u);
    EXPECT_EQ(received["ann@example.org"], (std::vector<std::string>{"6001-000A", "6001-000D"}));
    EXPECT_EQ(received["ben@example.org"], std::vector<std::string>{"6001-000B"});
    EXPECT_EQ(received["eve@example.org"], std::vector<std::string>{"6001-000E"});
    EXPECT_FALSE(received.contains("carl@example.org"));

    // However often it runs, an incident notifies an address once.
    EXPECT_THAT(capture_command(notify), HasSubstr("queued 0 breach_notice"));
    std::this_thread::sleep_for(1s);
    EXPECT_EQ(notices().size(), 3u);
    EXPECT_EQ(receiver->accepted().size(), 8u);
    EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE action IN ('breach.scoped',"
                    " 'breach.notified') AND records = 'INC-2026-07'"),
              4);
    EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE details LIKE '%@%'"), 0);
    EXPECT_EQ(run_command(ctl() + " audit verify >/dev/null"), 0);
}

class AuditCheckpoints : public payments_fixture {
  protected:
    void SetUp() override {
        payments_fixture::SetUp();
        key_file = dir / "audit-checkpoint-key";
        write_file(key_file, "a-checkpoint-key-of-forty-bytes-0123456789");
        with_key(true);
    }

    void with_key(bool present) {
        config.extra_root =
            clients_yaml() + gateway_yaml() + payments_yaml() +
            (present ? "audit:\n  checkpoint_key_file: " + key_file.string() + "\n" : "");
        write_config(dir.path(), config);
    }

    /// Appends a row to the chain as if it had been written `days_ago` days ago.
    void append_dated(int days_ago, const std::string& action) {
        pqxx::connection conn(database.dsn());
        pqxx::work tx(conn);
        auto last = tx.exec("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1");
        const std::string prev = last.empty() ? std::string(64, '0') : last[0][0].as<std::string>();
        auto next = tx.exec_params(
            "SELECT nextval(pg_get_serial_sequence('audit_log', 'id')),"
            " to_char((now() - make_interval(days => $1)) AT TIME ZONE 'UTC',"
            " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
            days_ago)[0];
        const auto id = next[0].as<std::int64_t>();
        const auto at = next[1].as<std::string>();
        billpay::store::audit_entry entry{"billpayctl:test", "host:test", action,
                                          "pay_x",           "",          "{}"};
        tx.exec_params(
            "INSERT INTO audit_log (id, at, actor, source, action, records, reason, details,"
            " prev_hash, hash) VALUES ($1, $2::timestamptz, $3, $4, $5, $6, $7, $8, $9, $10)",
            id, at, entry.actor, entry.source, entry.action, entry.records, entry.reason,
            entry.details, prev, billpay::store::audit_hash(prev, id, at, entry));
        tx.commit();
    }

    /// Runs SQL with the append-only guards of the audit tables off (someone with that power).
    void tamper(const std::string& sql) {
        pqxx::connection conn(database.dsn());
        pqxx::work tx(conn);
        tx.exec("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update");
        tx.exec("ALTER TABLE audit_checkpoints DISABLE TRIGGER audit_checkpoints_no_update");
        tx.exec(sql);
        tx.exec("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update");
        tx.exec("ALTER TABLE audit_checkpoints ENABLE TRIGGER audit_checkpoints_no_update");
        tx.commit();
    }

    std::filesystem::path key_file;
};

TEST_F(AuditCheckpoints, SignedDaysCatchRowsCutFromTheEndOfTheChain) {
    migrate();
    append_dated(5, "refund.requested");
    append_dated(4, "refund.succeeded");
    append_dated(3, "payments.read");

    auto signed_days = capture_command(ctl() + " audit checkpoint");
    EXPECT_EQ(std::count(signed_days.begin(), signed_days.end(), '\n'), 5) << signed_days;
    EXPECT_THAT(capture_command(ctl() + " audit checkpoint"), HasSubstr("signed already"));
    auto verdict = capture_command(ctl() + " audit verify; echo exit=$?");
    EXPECT_THAT(verdict, HasSubstr("3 rows"));
    EXPECT_THAT(verdict, HasSubstr("5 signed days"));
    EXPECT_THAT(verdict, HasSubstr("checked with audit.checkpoint_key_file"));
    EXPECT_THAT(verdict, HasSubstr("exit=0"));

    // Without the key, verify still checks the rows against the checkpoints, and says it could
    // not check the signatures.
    with_key(false);
    EXPECT_THAT(capture_command(ctl() + " audit verify"), HasSubstr("signatures NOT checked"));
    with_key(true);

    // The last row is cut: the chain itself still links, the checkpoints do not.
    tamper("DELETE FROM audit_log WHERE action = 'payments.read'");
    verdict = capture_command(ctl() + " audit verify; echo exit=$?");
    EXPECT_THAT(verdict, HasSubstr("hash chain intact: 2 rows"));
    EXPECT_THAT(verdict, HasSubstr("CUT SHORT"));
    EXPECT_THAT(verdict, HasSubstr("exit=1"));

    // The checkpoints that name it are cut too: the newest left is too old to cover the end.
    tamper("DELETE FROM audit_checkpoints WHERE day >= (now() AT TIME ZONE 'UTC')::date - 3");
    verdict = capture_command(ctl() + " audit verify; echo exit=$?");
    EXPECT_THAT(verdict, HasSubstr("STALE"));
    EXPECT_THAT(verdict, HasSubstr("exit=1"));

    // A checkpoint rewritten to match a shorter log does not carry a valid signature.
    tamper("UPDATE audit_checkpoints SET rows_through = rows_through + 1");
    verdict = capture_command(ctl() + " audit verify; echo exit=$?");
    EXPECT_THAT(verdict, HasSubstr("FORGED"));
    EXPECT_THAT(verdict, HasSubstr("exit=1"));
}

}  // namespace
