// billpayd with gateway.processor: authorizenet, against a fake Authorize.Net that checks requests
// as Authorize.Net does (credentials, element order, required elements): the sandbox's outcomes,
// customer profiles, Accept.js nonces, recovery through late answers, 500s and resets, and the
// adapter's refunds, voids and settled batches.
#include <gmock/gmock.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>
#include <ctime>
#include <future>
#include <sstream>

#include "gateway_adapters/authorizenet/authorizenet_gateway.hpp"
#include "tests/e2e/payments_fixture.hpp"
#include "tests/fakes/authorizenet_server.hpp"
#include "tests/support/run_to_end.hpp"

namespace {

using namespace billpay::test;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace anet = billpay::gateway::authorizenet;

const std::string login_id = "5KP3u95bQpv";
const std::string transaction_key = "346HZ32z3fP4hTG2";
const char* accept_descriptor = "COMMON.ACCEPT.INAPP.PAYMENT";

/// Now, or `later` from now, as Authorize.Net writes times ("2026-11-26T04:00:00Z").
std::string now_utc(std::chrono::seconds later = 0s) {
    auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + later);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

class AuthorizeNet : public payments_fixture {
  protected:
    void SetUp() override {
        payments_fixture::SetUp();
        anet_cert = make_certificate(dir.path(), "authorizenet", "localhost", ca);
        fake = std::make_unique<authorizenet_server>(anet_cert, login_id, transaction_key);
        config.extra_root = clients_yaml() + gateway_yaml(transaction_key) +
                            payments_yaml(1500, 20) +
                            "finance:\n  refund_recovery_after_ms: 1500\n";
    }

    std::string gateway_yaml(const std::string& key, int timeout_ms = 500) const {
        const std::string timeout = std::to_string(timeout_ms);
        return "gateway:\n"
               "  processor: authorizenet\n"
               "  timeout_ms: " +
               timeout +
               "\n"
               "  authorizenet:\n"
               "    endpoint: " +
               fake->endpoint() +
               "\n"
               "    login_id: \"" +
               login_id +
               "\"\n"
               "    transaction_key: \"" +
               key +
               "\"\n"
               "    ca_file: " +
               ca.certificate.string() +
               "\n"
               "    timeout_ms: " +
               timeout + "\n";
    }

    /// A payment body paying with Accept.js's opaqueData instead of a card.
    static json::object accept_body(const std::string& nonce, const std::string& bill) {
        auto body = payment_body("", bill);
        body.erase("card");
        body["processor_token"] =
            json::object{{"data_descriptor", accept_descriptor}, {"data_value", nonce}};
        return body;
    }

    tls_files anet_cert;
    std::unique_ptr<authorizenet_server> fake;
};

TEST_F(AuthorizeNet, TheSandboxTestCardMeetsEachDocumentedOutcome) {
    start();
    auto c = client();
    auto ok = pay(c, payment_body("4111111111111111", "ok"), "ok");
    ASSERT_EQ(ok.result(), http::status::created) << ok.body();
    auto p = json_of(ok);
    EXPECT_EQ(p.at("processor"), "authorizenet");
    auto id = std::string(p.at("id").as_string());
    EXPECT_EQ(p.at("processor_reference"),
              json::value(fake->charge_ids().at(anet::invoice_number_for(id))));

    // 4222222222222: the amount's whole dollars are the response reason code.
    struct expected {
        std::int64_t dollars;
        http::status http;
        const char* status;
        const char* decline_code;  // "" for none
    };
    int n = 0;
    for (auto e : {expected{2, http::status::payment_required, "declined", "generic_decline"},
                   expected{3, http::status::payment_required, "declined", "call_issuer"},
                   expected{4, http::status::payment_required, "declined", "pickup_card"},
                   expected{27, http::status::payment_required, "declined", "incorrect_address"},
                   expected{44, http::status::payment_required, "declined", "incorrect_cvc"},
                   expected{65, http::status::payment_required, "declined", "incorrect_cvc"},
                   expected{250, http::status::payment_required, "declined", "fraudulent"},
                   expected{19, http::status::payment_required, "failed", "processing_error"},
                   expected{252, http::status::accepted, "pending", ""},
                   expected{120, http::status::accepted, "pending", ""}}) {
        auto key = "reason-" + std::to_string(n++);
        auto res = pay(c, payment_body("4222222222222", key, e.dollars * 100), key);
        ASSERT_EQ(res.result(), e.http) << e.dollars << " " << res.body();
        auto body = json_of(res);
        if (e.http == http::status::accepted) {
            EXPECT_EQ(body.at("status"), e.status) << e.dollars;
        } else {
            EXPECT_EQ(body.at("error").at("decline_code"), e.decline_code) << e.dollars;
            EXPECT_EQ(body.at("error").at("payment").at("status"), e.status) << e.dollars;
        }
    }
    EXPECT_EQ(fake->rejected_requests(), 0);  // every request was well formed and in order
    EXPECT_EQ(fake->charges().size(), 1u);
    // The cards went to Authorize.Net and nowhere else: not billpayd's log, not its tables.
    for (const char* number : {"4111111111111111", "4222222222222"}) {
        EXPECT_EQ(daemon->log().find(number), std::string::npos) << card_label(number);
        EXPECT_EQ(count(std::string("SELECT count(*) FROM payments p WHERE p::text LIKE '%") +
                        number + "%'"),
                  0);
    }
}

TEST_F(AuthorizeNet, AnAccountKeepsOneCustomerProfileAndOnePaymentProfilePerCard) {
    start();
    auto c = client();
    json::object card{
        {"number", "4111111111111111"}, {"exp_month", 12}, {"exp_year", 2031}, {"cvc", "123"}};
    json::object method{{"account_number", "1001-2002"}, {"card", card}};
    auto first = post(c, "/v1/payment_methods", method, portal_key, "save-1");
    ASSERT_EQ(first.result(), http::status::created) << first.body();
    // The same card again: Authorize.Net answers with the payment profile it has (E00039), and
    // billpayd must not delete it as a spare.
    auto again = post(c, "/v1/payment_methods", method, portal_key, "save-2");
    ASSERT_EQ(again.result(), http::status::ok) << again.body();
    EXPECT_EQ(json_of(again).at("id"), json_of(first).at("id"));
    EXPECT_EQ(fake->payment_profiles(), 1u);

    // Another card for the account goes into the same customer profile.
    json::object other{
        {"number", "5424000000000015"}, {"exp_month", 4}, {"exp_year", 2030}, {"cvc", "900"}};
    json::object method2{{"account_number", "1001-2002"}, {"card", other}};
    auto second = post(c, "/v1/payment_methods", method2, portal_key, "save-3");
    ASSERT_EQ(second.result(), http::status::created) << second.body();
    EXPECT_EQ(fake->payment_profiles(), 2u);

    // Paying with the saved card charges its profile; deleting it removes it at Authorize.Net.
    auto body = payment_body("");
    body.erase("card");
    body["payment_method"] = json_of(first).at("id");
    auto paid = pay(c, body, "pay-saved");
    ASSERT_EQ(paid.result(), http::status::created) << paid.body();
    auto del = c.request(http::verb::delete_,
                         "/v1/payment_methods/" + std::string(json_of(first).at("id").as_string()) +
                             "?account_number=1001-2002",
                         "", auth(portal_key));
    EXPECT_EQ(del.result(), http::status::ok) << del.body();
    EXPECT_EQ(fake->payment_profiles(), 1u);
    EXPECT_EQ(fake->rejected_requests(), 0);
}

TEST_F(AuthorizeNet, WrongCredentialsChargeNothingAndSaySo) {
    config.extra_root = clients_yaml() + gateway_yaml("wrong-key") + payments_yaml();
    start();
    auto c = client();
    auto res = pay(c, payment_body("4111111111111111"), "k");
    EXPECT_EQ(res.result(), http::status::bad_gateway) << res.body();
    EXPECT_TRUE(fake->charges().empty());
    EXPECT_EQ(count("SELECT count(*) FROM payments"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM idempotency_keys"), 0);
    EXPECT_GT(fake->rejected_requests(), 0);
}

TEST_F(AuthorizeNet, ARefusedConnectionChargesNothingAndTheKeyCanBeRetried) {
    start();
    fake->stop();
    auto c = client();
    auto res = pay(c, payment_body("4111111111111111"), "refused");
    EXPECT_EQ(res.result(), http::status::bad_gateway) << res.body();
    EXPECT_EQ(count("SELECT count(*) FROM payments"), 0);
    fake->start();
    auto retry = pay(c, payment_body("4111111111111111"), "refused");
    EXPECT_EQ(retry.result(), http::status::created) << retry.body();
    EXPECT_EQ(fake->charges().size(), 1u);
}

TEST_F(AuthorizeNet, AnAcceptJsNonceMakesAProfileAndPaysWithoutBillpaydSeeingTheCard) {
    start();
    auto c = client();
    auto nonce = fake->browser_nonce("4007000000027", 9, 2032);
    auto body = accept_body(nonce, "accept");
    body["save_payment_method"] = true;
    auto res = pay(c, body, "accept");
    ASSERT_EQ(res.result(), http::status::created) << res.body();
    auto p = json_of(res);
    EXPECT_EQ(p.at("card").at("brand"), "visa");
    EXPECT_EQ(p.at("card").at("last4"), "0027");
    EXPECT_EQ(p.at("card").at("exp_month"), 9);
    EXPECT_EQ(p.at("card").at("exp_year"), 2032);
    EXPECT_TRUE(p.at("payment_method").is_string());
    EXPECT_EQ(fake->charges().size(), 1u);

    // A nonce is good once: used again (under a new key) it is an unknown token, and nothing
    // is recorded.
    auto again = pay(c, accept_body(nonce, "accept-2"), "accept-2");
    EXPECT_EQ(again.result(), http::status::bad_request) << again.body();
    EXPECT_EQ(json_of(again).at("error").at("param"), "processor_token");
    EXPECT_EQ(count("SELECT count(*) FROM payments"), 1);

    // A Stripe-style id means nothing to Authorize.Net.
    auto body2 = payment_body("", "pm-id");
    body2.erase("card");
    body2["processor_token"] = "pm_123";
    auto wrong = pay(c, body2, "pm-id");
    EXPECT_EQ(wrong.result(), http::status::bad_request) << wrong.body();
    EXPECT_EQ(fake->rejected_requests(), 0);
}

TEST_F(AuthorizeNet, AThousandPaymentsThroughLateAnswers500sAndResetsEndAsAuthorizeNetHoldsThem) {
    fake->set_late_by(800ms);  // past billpayd's 500 ms deadline
    fake->set_fault_plan([](const std::string& invoice) {
        auto bucket = std::hash<std::string>{}(invoice) % 100;
        if (bucket < 30) return authorizenet_server::fault::late;
        if (bucket < 35) return authorizenet_server::fault::error_500;
        if (bucket < 40) return authorizenet_server::fault::reset;
        return authorizenet_server::fault::none;
    });
    start();
    constexpr int total = 1000;
    EXPECT_GT(pay_concurrently(total, "4111111111111111"), total / 5);  // the faults did bite
    wait_until_none_pending(std::chrono::seconds(90));
    EXPECT_EQ(count("SELECT count(*) FROM payments WHERE status = 'pending'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM payments WHERE status = 'succeeded'"), total);

    // Authorize.Net's ledger and billpayd's agree one to one, and nobody was charged twice.
    auto charges = fake->charges();
    auto ids = fake->charge_ids();
    EXPECT_EQ(charges.size(), static_cast<std::size_t>(total));
    for (const auto& [invoice, times] : charges) {
        EXPECT_EQ(times, 1) << invoice;
    }
    pqxx::connection conn(database.dsn());
    pqxx::read_transaction tx(conn);
    for (const auto& row : tx.exec("SELECT id, processor_reference FROM payments")) {
        auto it = ids.find(anet::invoice_number_for(row[0].as<std::string>()));
        ASSERT_NE(it, ids.end()) << row[0].as<std::string>();
        EXPECT_EQ(row[1].as<std::string>(), it->second);
    }
    EXPECT_EQ(fake->rejected_requests(), 0);
}

}  // namespace

namespace {

/// The adapter on its own, for what finance uses next: refunds that choose between void and
/// refund, and settled batches.
class AuthorizeNetAdapter : public ::testing::Test {
  protected:
    void SetUp() override {
        ca = make_ca(dir.path(), "test-ca");
        auto cert = make_certificate(dir.path(), "authorizenet", "localhost", ca);
        fake = std::make_unique<authorizenet_server>(cert, login_id, transaction_key);
        billpay::config::authorizenet_settings s;
        s.endpoint = fake->endpoint();
        s.login_id = billpay::config::secret(login_id);
        s.transaction_key = billpay::config::secret(transaction_key);
        s.ca_file = ca.certificate;
        s.timeout = 5s;
        adapter = std::make_unique<anet::authorizenet_gateway>(s, ioc.get_executor());
    }

    template <class T>
    T run(boost::asio::awaitable<T> work) {
        return billpay::test::run_to_end(ioc, std::move(work));
    }

    static billpay::gateway::deadline soon() { return std::chrono::steady_clock::now() + 5s; }

    /// A charge of `cents` through an Accept.js nonce, as billpayd makes one.
    std::pair<std::string, std::string> charge(std::int64_t cents, const std::string& payment_id) {
        billpay::gateway::browser_token nonce{"", accept_descriptor,
                                              fake->browser_nonce("4111111111111111", 12, 2031)};
        const std::string account = "c0123456789abcdef012";  // a pseudonym, as billpayd sends
        auto adopted = run(
            adapter->adopt_token(nonce, account, billpay::gateway::token_use::one_payment, soon()));
        EXPECT_EQ(adopted.result, billpay::gateway::outcome::approved) << adopted.message;
        billpay::gateway::charge_request request{adopted.token,
                                                 {cents, *billpay::model::currency::parse("USD")},
                                                 payment_id,
                                                 "Utility bill",
                                                 now_utc()};
        auto charged = run(adapter->charge(request, soon()));
        EXPECT_EQ(charged.result, billpay::gateway::outcome::approved) << charged.message;
        return {adopted.token, charged.processor_reference};
    }

    /// `retry`: the same refund asked again after its answer was lost.
    billpay::gateway::refund_request refund_of(const std::pair<std::string, std::string>& charge,
                                               std::int64_t cents, const std::string& refund_id,
                                               bool retry = false) {
        return {charge.second, {cents, *billpay::model::currency::parse("USD")},
                refund_id,     charge.first,
                "1111",        retry,
                now_utc()};
    }

    temp_dir dir;
    tls_files ca;
    std::unique_ptr<authorizenet_server> fake;
    boost::asio::io_context ioc;
    std::unique_ptr<anet::authorizenet_gateway> adapter;
};

TEST_F(AuthorizeNetAdapter, AnUnsettledChargeIsVoidedAndASettledOneRefunded) {
    auto unsettled = charge(5000, "pay_aaaaaaaaaaaaaaaaaaaaaaaaaa");
    // Whole, before settlement: voided.
    auto voided =
        run(adapter->refund(refund_of(unsettled, 5000, "ref_1aaaaaaaaaaaaaaaaaaaaaaaaa"), soon()));
    EXPECT_EQ(voided.result, billpay::gateway::outcome::approved) << voided.message;
    EXPECT_TRUE(voided.voided);
    EXPECT_EQ(fake->status_of(unsettled.second), "voided");

    // Part of an unsettled charge cannot be given back until it settles.
    auto other = charge(7000, "pay_bbbbbbbbbbbbbbbbbbbbbbbbbb");
    auto partial =
        run(adapter->refund(refund_of(other, 1000, "ref_1bbbbbbbbbbbbbbbbbbbbbbbbb"), soon()));
    EXPECT_EQ(partial.result, billpay::gateway::outcome::declined);
    EXPECT_EQ(partial.decline_code, "charge_not_settled");

    fake->settle("2026-11-26T04:00:00Z");
    auto refunded =
        run(adapter->refund(refund_of(other, 1000, "ref_2bbbbbbbbbbbbbbbbbbbbbbbbb"), soon()));
    EXPECT_EQ(refunded.result, billpay::gateway::outcome::approved) << refunded.message;
    EXPECT_FALSE(refunded.voided);
    EXPECT_EQ(fake->status_of(refunded.processor_reference), "refundPendingSettlement");
    // Asked again under the same key (its answer was lost): the same refund, not a second one.
    auto again = run(
        adapter->refund(refund_of(other, 1000, "ref_2bbbbbbbbbbbbbbbbbbbbbbbbb", true), soon()));
    EXPECT_EQ(again.result, billpay::gateway::outcome::approved) << again.message;
    EXPECT_EQ(again.processor_reference, refunded.processor_reference);
    auto void_again =
        run(adapter->refund(refund_of(unsettled, 5000, "ref_1aaaaaaaaaaaaaaaaaaaaaaaaa"), soon()));
    EXPECT_EQ(void_again.result, billpay::gateway::outcome::approved);
    EXPECT_TRUE(void_again.voided);
    // More than what remains is refused by Authorize.Net (reason 55).
    auto too_much =
        run(adapter->refund(refund_of(other, 6500, "ref_3bbbbbbbbbbbbbbbbbbbbbbbbb"), soon()));
    EXPECT_EQ(too_much.result, billpay::gateway::outcome::failed);
    EXPECT_EQ(fake->rejected_requests(), 0);
}

TEST_F(AuthorizeNetAdapter, ARefundAskedAgainBeforeItIsReportedIsNotSentASecondTime) {
    auto made = charge(4000, "pay_gggggggggggggggggggggggggg");
    fake->settle(now_utc(3600s));
    auto first =
        run(adapter->refund(refund_of(made, 4000, "ref_1ggggggggggggggggggggggggg"), soon()));
    ASSERT_EQ(first.result, billpay::gateway::outcome::approved) << first.message;
    // Its answer was lost; Authorize.Net does not list it yet, and the duplicate window (which
    // would have refused a second one) is over.
    fake->set_reporting_lag(3600s);
    fake->pass_time(180s);
    auto again =
        run(adapter->refund(refund_of(made, 4000, "ref_1ggggggggggggggggggggggggg", true), soon()));
    EXPECT_EQ(again.result, billpay::gateway::outcome::unknown) << again.message;
    EXPECT_EQ(fake->refunds_of_charges()[made.second], 1);
}

TEST_F(AuthorizeNetAdapter, SettledBatchesListTheirTransactionsWithExactAmounts) {
    auto first = charge(10, "pay_cccccccccccccccccccccccccc");       // $0.10
    auto second = charge(123456, "pay_dddddddddddddddddddddddddd");  // $1,234.56
    auto batch_id = fake->settle("2026-11-25T04:00:00Z");
    auto refund =
        run(adapter->refund(refund_of(second, 456, "ref_1ddddddddddddddddddddddddd"), soon()));
    ASSERT_EQ(refund.result, billpay::gateway::outcome::approved) << refund.message;
    auto later = fake->settle("2026-11-26T04:00:00Z");

    const std::string from = "2026-11-25T00:00:00Z";
    const std::string to = "2026-11-26T23:59:59Z";
    auto batches = run(adapter->settled_batches(from, to, soon()));
    ASSERT_EQ(batches.result, billpay::gateway::outcome::approved) << batches.message;
    ASSERT_EQ(batches.batches.size(), 2u);
    EXPECT_EQ(batches.batches[0].batch_id, batch_id);
    EXPECT_EQ(batches.batches[1].batch_id, later);

    auto listed = run(adapter->batch_transactions(batch_id, soon()));
    ASSERT_EQ(listed.result, billpay::gateway::outcome::approved) << listed.message;
    std::map<std::string, std::string> amounts;
    for (const auto& t : listed.transactions) {
        amounts[t.trans_id] = t.settle_amount;
        EXPECT_EQ(t.status, "settledSuccessfully");
    }
    EXPECT_EQ(amounts[first.second], "0.10");
    EXPECT_EQ(amounts[second.second], "1234.56");
    auto refunds = run(adapter->batch_transactions(later, soon()));
    ASSERT_EQ(refunds.transactions.size(), 1u);
    EXPECT_EQ(refunds.transactions[0].status, "refundSettledSuccessfully");
    EXPECT_EQ(refunds.transactions[0].settle_amount, "4.56");

    // Through the gateway interface, as reconciliation pulls it: exact minor units, refunds
    // marked, each with its batch.
    const std::string first_day = "2026-11-25";
    const std::string last_day = "2026-11-26";
    auto settled = run(
        adapter->settlements(first_day, last_day, *billpay::model::currency::parse("USD"), soon()));
    ASSERT_EQ(settled.result, billpay::gateway::outcome::approved) << settled.message;
    ASSERT_EQ(settled.transactions.size(), 3u);
    std::map<std::string, billpay::gateway::settled_transaction> by_id;
    for (const auto& t : settled.transactions) {
        by_id[t.id] = t;
    }
    EXPECT_EQ(by_id[first.second].amount.minor_units, 10);
    EXPECT_EQ(by_id[second.second].amount.minor_units, 123456);
    EXPECT_FALSE(by_id[second.second].refund);
    EXPECT_EQ(by_id[second.second].settlement_id, batch_id);
    const auto& refunded = by_id[refund.processor_reference];
    EXPECT_EQ(refunded.amount.minor_units, 456);
    EXPECT_TRUE(refunded.refund);
    EXPECT_EQ(refunded.settlement_id, later);
    EXPECT_EQ(refunded.settled_at, "2026-11-26T04:00:00Z");

    const std::string empty_from = "2026-10-01T00:00:00Z";
    const std::string empty_to = "2026-10-31T00:00:00Z";
    auto none = run(adapter->settled_batches(empty_from, empty_to, soon()));
    EXPECT_EQ(none.result, billpay::gateway::outcome::approved);
    EXPECT_TRUE(none.batches.empty());
    EXPECT_EQ(fake->rejected_requests(), 0);
}

TEST_F(AuthorizeNetAdapter, LookupFindsAChargeBeforeAndAfterSettlementAndKnowsWhenThereIsNone) {
    auto made = charge(2500, "pay_eeeeeeeeeeeeeeeeeeeeeeeeee");
    billpay::gateway::charge_request charged{made.first,
                                             {2500, *billpay::model::currency::parse("USD")},
                                             "pay_eeeeeeeeeeeeeeeeeeeeeeeeee",
                                             "Utility bill",
                                             now_utc()};
    auto unsettled = run(adapter->lookup(charged, soon()));
    EXPECT_EQ(unsettled.result, billpay::gateway::outcome::approved);
    EXPECT_EQ(unsettled.processor_reference, made.second);

    // Off the unsettled list: found in the batch settled since it was made.
    fake->settle(now_utc(3600s));
    auto settled = run(adapter->lookup(charged, soon()));
    EXPECT_EQ(settled.result, billpay::gateway::outcome::approved);
    EXPECT_EQ(settled.processor_reference, made.second);

    // A charge that never reached Authorize.Net: both lists read, nothing under its invoice
    // number. Not yet a "no" while its settlement day is open (its transaction may not be
    // reported yet)...
    billpay::gateway::charge_request never = charged;
    never.idempotency_key = "pay_ffffffffffffffffffffffffff";
    auto missing = run(adapter->lookup(never, soon()));
    EXPECT_EQ(missing.result, billpay::gateway::outcome::unknown);
    EXPECT_GT(missing.ask_again_after, 0ms);
    // ...but once a batch settled a day after it was read: Authorize.Net's definitive "no".
    never.created_at = now_utc(-86400s);
    missing = run(adapter->lookup(never, soon()));
    EXPECT_EQ(missing.result, billpay::gateway::outcome::failed);

    // Authorize.Net unreachable: not "not charged", but unknown, to be asked again.
    fake->stop();
    auto unreachable = run(adapter->lookup(never, soon()));
    EXPECT_EQ(unreachable.result, billpay::gateway::outcome::unknown);
    EXPECT_EQ(fake->rejected_requests(), 0);
}

}  // namespace

namespace {

/// Authorize.Net processing a charge slowly: it appears in the transaction lists only when
/// Authorize.Net is done with it. A lookup before then would find nothing and, had billpayd
/// trusted it, call a charged payment failed.
class SlowAuthorizeNet : public AuthorizeNet {
  protected:
    void SetUp() override {
        AuthorizeNet::SetUp();
        // A 3 s processor deadline: recovery may not look before 4.5 s (the config refuses
        // less), and never while the payment's request still holds its key.
        config.extra_root =
            clients_yaml() + gateway_yaml(transaction_key, 3000) + payments_yaml(4500, 20);
        fake->set_fault_plan([](const std::string&) { return authorizenet_server::fault::slow; });
    }
};

TEST_F(AuthorizeNet, AChargeAuthorizeNetHasNotReportedYetIsNeverCalledFailed) {
    // The charge is made, its answer lost (connection reset), and Authorize.Net's transaction
    // reporting lags: recovery's first lookups find it in neither list. That absence is not
    // Authorize.Net's "no": the payment stays pending (not flagged), and is found once listed.
    fake->set_fault_plan([](const std::string&) { return authorizenet_server::fault::reset; });
    fake->set_reporting_lag(6s);
    start();
    auto c = client();
    auto res = pay(c, payment_body("4111111111111111", "lagging"), "lagging");
    ASSERT_EQ(res.result(), http::status::accepted) << res.body();
    const auto id = std::string(json_of(res).at("id").as_string());
    // Recovery looks after 1.5 s and finds nothing listed.
    for (int i = 0; i < 50 && fake->list_requests() == 0; ++i) {
        std::this_thread::sleep_for(100ms);
    }
    ASSERT_GT(fake->list_requests(), 0) << "recovery never looked";
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(text("SELECT status FROM payments WHERE id = '" + id + "'"), "pending");
    EXPECT_EQ(text("SELECT needs_review::text FROM payments WHERE id = '" + id + "'"), "false");
    EXPECT_EQ(fake->charges().size(), 1u);  // charged all along
    // Listed now: the next look (brought forward from an hour) finds it.
    std::this_thread::sleep_for(5s);
    exec("UPDATE payments SET next_recovery_at = now() WHERE id = '" + id + "'");
    EXPECT_TRUE(status_becomes(id, "succeeded", 10s));
    EXPECT_EQ(fake->charges().size(), 1u);
    EXPECT_EQ(fake->rejected_requests(), 0);
}

TEST_F(AuthorizeNet, AChargeThatNeverReachedAuthorizeNetFailsOnlyOnceItsSettlementDayClosed) {
    fake->set_fault_plan([](const std::string&) { return authorizenet_server::fault::lost; });
    start();
    auto c = client();
    auto res = pay(c, payment_body("4111111111111111", "lost"), "lost");
    ASSERT_EQ(res.result(), http::status::accepted) << res.body();
    const auto id = std::string(json_of(res).at("id").as_string());
    for (int i = 0; i < 50 && fake->list_requests() == 0; ++i) {
        std::this_thread::sleep_for(100ms);
    }
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(text("SELECT status FROM payments WHERE id = '" + id + "'"), "pending");
    EXPECT_TRUE(fake->charges().empty());
    // A day later: that night's batch has settled (its transactions listed in full), and the
    // charge is in none of it: now Authorize.Net's record says it was never made.
    exec(
        "UPDATE payments SET created_at = now() - interval '25 hours',"
        " next_recovery_at = now() WHERE id = '" +
        id + "'");
    fake->settle(now_utc());
    EXPECT_TRUE(status_becomes(id, "failed", 10s));
    EXPECT_TRUE(fake->charges().empty());
}

TEST_F(SlowAuthorizeNet, AChargeAnsweredSlowlyIsNotLookedUpWhileItsRequestRuns) {
    fake->set_late_by(2000ms);  // within billpayd's deadline, long after a 1 s recovery delay
    start();
    auto c = client();
    auto res = pay(c, payment_body("4111111111111111", "slow"), "slow");
    ASSERT_EQ(res.result(), http::status::created) << res.body();
    EXPECT_EQ(json_of(res).at("status"), "succeeded");
    std::this_thread::sleep_for(1s);      // recovery passes come and go
    EXPECT_EQ(fake->list_requests(), 0);  // nobody asked about it: its request answered it
    EXPECT_EQ(fake->charges().size(), 1u);
    EXPECT_EQ(fake->rejected_requests(), 0);
}

TEST_F(SlowAuthorizeNet, AChargeSlowerThanTheDeadlineIsLookedUpOnlyOnceItsWindowClosed) {
    fake->set_late_by(3800ms);  // past billpayd's 3 s deadline: 202, then listed at 3.8 s
    start();
    auto c = client();
    auto res = pay(c, payment_body("4111111111111111", "slower"), "slower");
    ASSERT_EQ(res.result(), http::status::accepted) << res.body();
    auto id = std::string(json_of(res).at("id").as_string());
    // Looked up after 4.5 s, when Authorize.Net lists it: charged, never "failed".
    EXPECT_TRUE(status_becomes(id, "succeeded", 20s));
    EXPECT_EQ(fake->charges().size(), 1u);
    EXPECT_GE(fake->list_requests(), 1);
    EXPECT_EQ(fake->rejected_requests(), 0);
}

}  // namespace

namespace {

/// Published test numbers of five brands (never printed: a failure names a card by its last 4).
const char* const fifteen_cards[] = {"4242424242424242", "4111111111111111", "4012888888881881",
                                     "4000056655665556", "5555555555554444", "5424000000000015",
                                     "5105105105105100", "5200828282828210", "2223003122003222",
                                     "378282246310005",  "371449635398431",  "6011111111111117",
                                     "6011000990139424", "3566002020360505", "3530111333300000"};

class AuthorizeNetLongRun : public AuthorizeNet {
  protected:
    http_response save_card(https_client& c, const std::string& number, const std::string& key) {
        json::object card{{"number", number},
                          {"exp_month", 12},
                          {"exp_year", 2031},
                          {"cvc", number.starts_with("3") && number.size() == 15 ? "1234" : "123"}};
        return post(c, "/v1/payment_methods",
                    json::object{{"account_number", "1001-2002"}, {"card", card}}, portal_key, key);
    }
    http_response pay_saved(https_client& c, const json::value& pm, const std::string& bill) {
        auto body = payment_body("", bill);
        body.erase("card");
        body["payment_method"] = pm;
        return pay(c, body, "saved-" + bill);
    }
    http_response refund(https_client& c, const std::string& payment_id, const std::string& key) {
        return post(c, "/v1/payments/" + payment_id + "/refunds",
                    json::object{{"reason", "billed twice"}}, finance_key, key);
    }
    static std::string id_of(const http_response& res) {
        return std::string(json_of(res).at("id").as_string());
    }
    /// A bill paid with a saved card, settled, and the card then removed (its payment profile
    /// with it): the id of the payment.
    std::string paid_settled_and_card_removed(https_client& c, const std::string& bill) {
        auto saved = save_card(c, "5424000000000015", bill + "-save");
        EXPECT_EQ(saved.result(), http::status::created) << saved.body();
        auto paid = pay_saved(c, json_of(saved).at("id"), bill);
        EXPECT_EQ(paid.result(), http::status::created) << paid.body();
        fake->settle(now_utc(3600s));
        auto removed =
            c.request(http::verb::delete_,
                      "/v1/payment_methods/" + id_of(saved) + "?account_number=1001-2002", "",
                      auth(portal_key));
        EXPECT_EQ(removed.result(), http::status::ok) << removed.body();
        return id_of(paid);
    }
};

TEST_F(AuthorizeNetLongRun, FifteenDistinctCardsPayOnOneAccountAndLeaveNoProfilesBehind) {
    start();
    auto c = client();
    int n = 0;
    for (const char* number : fifteen_cards) {
        const std::string bill = "card-" + std::to_string(n++);
        auto res = pay(c, payment_body(number, bill), bill);
        EXPECT_EQ(res.result(), http::status::created) << card_label(number) << res.body();
    }
    // Each one-payment card had a customer profile of its own, gone once its payment was final:
    // none counts toward the account's ten.
    EXPECT_EQ(fake->customer_profiles(), 0u);
    EXPECT_EQ(fake->charges().size(), 15u);

    // Saved cards go into the account's customer profile: ten at most, and then a clear 409.
    for (int i = 0; i < 10; ++i) {
        auto saved = save_card(c, fifteen_cards[i], "save-" + std::to_string(i));
        EXPECT_EQ(saved.result(), http::status::created)
            << card_label(fifteen_cards[i]) << saved.body();
    }
    auto eleventh = save_card(c, fifteen_cards[10], "save-10");
    EXPECT_EQ(eleventh.result(), http::status::conflict) << eleventh.body();
    EXPECT_EQ(json_of(eleventh).at("error").at("code"), "too_many_cards");
    EXPECT_EQ(count("SELECT count(*) FROM payment_methods"), 10);
    // A full account still pays with a new card, and a card to save is refused clearly.
    auto one_off = pay(c, payment_body(fifteen_cards[11], "after-ten"), "after-ten");
    EXPECT_EQ(one_off.result(), http::status::created) << one_off.body();
    auto to_save = payment_body(fifteen_cards[12], "save-and-pay");
    to_save["save_payment_method"] = true;
    auto refused = pay(c, to_save, "save-and-pay");
    EXPECT_EQ(refused.result(), http::status::conflict) << refused.body();
    EXPECT_EQ(json_of(refused).at("error").at("code"), "too_many_cards");
    EXPECT_EQ(fake->customer_profiles(), 1u);  // the account's, with its ten
    EXPECT_EQ(fake->rejected_requests(), 0);
}

TEST_F(AuthorizeNetLongRun, ConnectionsClosedWhileIdleFailNoPaymentAndNoRefund) {
    fake->close_idle_after(1s);  // as a front end with a short keep-alive would
    start();
    auto c = client();
    auto first = pay(c, payment_body("4111111111111111", "idle-1"), "idle-1");
    ASSERT_EQ(first.result(), http::status::created) << first.body();
    auto saved = save_card(c, "5424000000000015", "idle-save");
    ASSERT_EQ(saved.result(), http::status::created) << saved.body();

    std::this_thread::sleep_for(2s);
    auto one_off = pay(c, payment_body("4012888888881881", "idle-2"), "idle-2");
    EXPECT_EQ(one_off.result(), http::status::created) << one_off.body();
    std::this_thread::sleep_for(2s);
    auto with_saved = pay_saved(c, json_of(saved).at("id"), "idle-3");
    EXPECT_EQ(with_saved.result(), http::status::created) << with_saved.body();
    std::this_thread::sleep_for(2s);
    auto refunded = refund(c, id_of(first), "idle-refund");  // unsettled: voided whole
    EXPECT_EQ(refunded.result(), http::status::created) << refunded.body();
    EXPECT_GE(fake->connections(), 4);  // every pause cost a connection, never a payment
    EXPECT_EQ(count("SELECT count(*) FROM payments WHERE status <> 'succeeded'"
                    " AND status <> 'refunded'"),
              0);
}

TEST_F(AuthorizeNetLongRun, ARefundWhoseAnswerWasLostIsFoundByItsInvoiceAndNeverSentTwice) {
    start();
    auto c = client();
    auto paid = pay(c, payment_body("4111111111111111", "lost-refund"), "lost-refund");
    ASSERT_EQ(paid.result(), http::status::created) << paid.body();
    fake->settle(now_utc(3600s));
    // The refund is made, but its answer comes after billpayd's deadline.
    fake->set_late_by(1500ms);
    fake->set_fault_plan([](const std::string&) { return authorizenet_server::fault::late; });
    auto res = refund(c, id_of(paid), "lost-refund");
    ASSERT_EQ(res.result(), http::status::accepted) << res.body();
    fake->set_fault_plan(nullptr);
    // Asked again under its key: found among the unsettled refunds by its invoice number (the
    // customer's transaction list does not hold refunds), not sent a second time.
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (text("SELECT status FROM refunds") == "pending" &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(200ms);
    }
    EXPECT_EQ(text("SELECT status FROM refunds"), "succeeded");
    const auto refunds = fake->refunds_of_charges();
    ASSERT_EQ(refunds.size(), 1u);
    EXPECT_EQ(refunds.begin()->second, 1);
    EXPECT_EQ(text("SELECT status FROM payments"), "refunded");
}

TEST_F(AuthorizeNetLongRun, ASettledChargeWhoseSavedCardWasRemovedRefundsNormally) {
    start();
    auto c = client();
    const auto payment = paid_settled_and_card_removed(c, "removed");
    auto res = refund(c, payment, "removed-refund");
    EXPECT_EQ(res.result(), http::status::created) << res.body();
    EXPECT_EQ(json_of(res).at("kind"), "refund");
    EXPECT_EQ(fake->rejected_requests(), 0);
}

TEST_F(AuthorizeNetLongRun, ARetriedRefundPastTheDuplicateWindowIsFoundAfterTheCardWasDeleted) {
    // The worst case for a retry: the saved card behind the charge is gone (its payment profile
    // with it), and Authorize.Net's two-minute duplicate window has passed, so a refund sent
    // again would not be refused but paid out a second time.
    start();
    auto c = client();
    const auto payment = paid_settled_and_card_removed(c, "window");

    fake->set_late_by(1500ms);
    fake->set_fault_plan([](const std::string&) { return authorizenet_server::fault::late; });
    auto res = refund(c, payment, "window-refund");
    ASSERT_EQ(res.result(), http::status::accepted) << res.body();
    fake->set_fault_plan(nullptr);
    fake->pass_time(std::chrono::minutes(3));  // before recovery asks (refund_recovery_after_ms)

    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (text("SELECT status FROM refunds") == "pending" &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(200ms);
    }
    EXPECT_EQ(text("SELECT status FROM refunds"), "succeeded");
    const auto refunds = fake->refunds_of_charges();
    ASSERT_EQ(refunds.size(), 1u);
    EXPECT_EQ(refunds.begin()->second, 1);  // found by its invoice, never sent twice
    EXPECT_EQ(fake->rejected_requests(), 0);
}

TEST_F(AuthorizeNetLongRun, AuthorizeNetSeesNoAccountNumberAndNoBill) {
    start();
    auto c = client();
    auto one_off = pay(c, payment_body("4111111111111111", "bill-QZX-7"), "see-1");
    ASSERT_EQ(one_off.result(), http::status::created) << one_off.body();
    auto saved = save_card(c, "5424000000000015", "see-save");
    ASSERT_EQ(saved.result(), http::status::created) << saved.body();
    auto with_saved = pay_saved(c, json_of(saved).at("id"), "bill-QZX-8");
    ASSERT_EQ(with_saved.result(), http::status::created) << with_saved.body();
    int leaks = 0;
    for (const auto& body : fake->bodies()) {  // never printed: tokenize bodies hold card data
        leaks += body.find("1001-2002") != std::string::npos ? 1 : 0;
        leaks += body.find("QZX") != std::string::npos ? 1 : 0;
    }
    EXPECT_EQ(leaks, 0);
}

TEST_F(AuthorizeNetLongRun, AOneOffCardsProfileIsGoneOnceFinalAndItsChargeStillRefunds) {
    start();
    auto c = client();
    auto paid = pay(c, payment_body("4111111111111111", "one-off"), "one-off");
    ASSERT_EQ(paid.result(), http::status::created) << paid.body();
    EXPECT_EQ(fake->customer_profiles(), 0u);  // deleted once the payment was final
    fake->settle(now_utc(3600s));
    auto res = refund(c, id_of(paid), "one-off-refund");
    ASSERT_EQ(res.result(), http::status::created) << res.body();
    EXPECT_EQ(json_of(res).at("kind"), "refund");  // by card's last 4, no profile needed
    EXPECT_EQ(fake->refunds_of_charges().size(), 1u);
    EXPECT_EQ(fake->rejected_requests(), 0);
}

TEST_F(AuthorizeNetLongRun, PurgeProfilesDeletesOnlyBillpaydsProfilesThatNothingUses) {
    start();
    auto c = client();
    auto saved = save_card(c, "5424000000000015", "keep");
    ASSERT_EQ(saved.result(), http::status::created) << saved.body();
    const auto in_use = *fake->customer_profile_ids().begin();
    // Left from before: a one-payment profile never deleted, an account profile whose cards are
    // all gone, and another system's customer on the same merchant account.
    fake->add_profile("o4a1b2c3d4e5f6a7b8c9", "billpayd one payment");
    fake->add_profile("c0123456789abcdef012", "billpayd account");
    const auto foreign = fake->add_profile("CRM-000417", "Water CRM customer");

    auto dry = capture_command(ctl() + " processor purge-profiles --dry-run");
    EXPECT_THAT(dry, ::testing::HasSubstr("would delete 3 of 4"));
    EXPECT_EQ(fake->customer_profiles(), 4u);

    auto out = capture_command(ctl() + " processor purge-profiles; echo exit=$?");
    EXPECT_THAT(out, ::testing::HasSubstr("deleted 2 of 4"));
    EXPECT_THAT(out, ::testing::HasSubstr("exit=0"));
    EXPECT_EQ(fake->customer_profile_ids(), (std::set<std::string>{in_use, foreign}));
    EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE action = 'processor.profiles_purged'"),
              1);
    // The saved card still pays.
    auto with_saved = pay_saved(c, json_of(saved).at("id"), "after-purge");
    EXPECT_EQ(with_saved.result(), http::status::created) << with_saved.body();
    EXPECT_EQ(fake->rejected_requests(), 0);
}

TEST_F(AuthorizeNetLongRun, TheCardholdersNameAndPostalCodeGoToTheAddressCheckOnly) {
    start();
    auto c = client();
    auto body = payment_body("4111111111111111", "avs");
    body["card"].as_object()["name"] = "Ada King Lovelace";
    body["card"].as_object()["postal_code"] = "60601";
    auto res = pay(c, body, "avs");
    ASSERT_EQ(res.result(), http::status::created) << res.body();
    std::vector<json::value> bill_to;
    for (const auto& sent : fake->bodies()) {  // never printed: it holds card data
        auto doc = json::parse(sent);
        if (const auto* r = doc.as_object().if_contains("createCustomerProfileRequest")) {
            bill_to.push_back(r->at("profile").at("paymentProfiles").at("billTo"));
        }
    }
    ASSERT_EQ(bill_to.size(), 1u);
    EXPECT_EQ(bill_to[0], json::parse(R"({"firstName": "Ada King", "lastName": "Lovelace",
                                          "zip": "60601"})"));
    EXPECT_EQ(fake->rejected_requests(), 0);
    // billpayd keeps neither.
    EXPECT_EQ(count("SELECT count(*) FROM payments WHERE customer_name LIKE '%King%'"), 0);
}

}  // namespace
