// billpayd with gateway.processor: stripe, against a fake Stripe that checks requests as Stripe
// documents them: every test card's outcome, and recovery through late answers, 500s and resets.
#include <gmock/gmock.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <future>
#include <mutex>
#include <set>
#include <sstream>

#include "model/time.hpp"
#include "tests/e2e/stripe_fixture.hpp"
#include "tests/support/run_to_end.hpp"

namespace {

using namespace billpay::test;
using namespace std::chrono_literals;
namespace json = boost::json;

TEST_F(Stripe, EachTestCardMeetsItsOutcome) {
    start();
    auto c = client();
    auto ok = pay(c, payment_body("4242424242424242", "ok"), "ok");
    ASSERT_EQ(ok.result(), http::status::created) << ok.body();
    EXPECT_EQ(json_of(ok).at("processor"), "stripe");
    auto id = std::string(json_of(ok).at("id").as_string());
    EXPECT_EQ(json_of(ok).at("processor_reference"), json::value(stripe->intents().at(id)));

    struct expected {
        const char* number;
        const char* decline_code;
        const char* status;
    };
    int n = 0;
    for (auto e : {expected{"4000000000000002", "generic_decline", "declined"},
                   expected{"4000000000009995", "insufficient_funds", "declined"},
                   expected{"4000000000000069", "expired_card", "declined"},
                   expected{"4000000000000127", "incorrect_cvc", "declined"},
                   expected{"4000000000000119", "processing_error", "failed"}}) {
        auto key = "card-" + std::to_string(n++);
        auto res = pay(c, payment_body(e.number, key), key);
        ASSERT_EQ(res.result(), http::status::payment_required)
            << card_label(e.number) << res.body();
        EXPECT_EQ(json_of(res).at("error").at("decline_code"), e.decline_code)
            << card_label(e.number);
        EXPECT_EQ(json_of(res).at("error").at("payment").at("status"), e.status)
            << card_label(e.number);
    }
    EXPECT_EQ(stripe->rejected_requests(), 0);  // every request was well formed
    EXPECT_EQ(stripe->charges().size(), 1u);
}

TEST_F(Stripe, AWrongSecretKeyChargesNothingAndSaysSo) {
    config.extra_root.replace(config.extra_root.find(stripe_secret_key), stripe_secret_key.size(),
                              "sk_test_wrong");
    start();
    auto c = client();
    auto res = pay(c, payment_body("4242424242424242"), "k");
    EXPECT_EQ(res.result(), http::status::bad_gateway) << res.body();
    EXPECT_TRUE(stripe->charges().empty());
    // Nothing happened: no payment, and the key is free for a retry once the key is fixed.
    EXPECT_EQ(count("SELECT count(*) FROM payments"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM idempotency_keys"), 0);
}

TEST_F(Stripe, AThousandPaymentsThroughLateAnswers500sAndResetsEndAsStripeHoldsThem) {
    stripe->set_late_by(800ms);  // past billpayd's 500 ms deadline
    stripe->set_fault_plan([](const std::string& payment_id) {
        auto bucket = std::hash<std::string>{}(payment_id) % 100;
        if (bucket < 30) return stripe_server::fault::late;
        if (bucket < 35) return stripe_server::fault::error_500;
        if (bucket < 40) return stripe_server::fault::reset;
        return stripe_server::fault::none;
    });
    start();
    constexpr int total = 1000;
    EXPECT_GT(pay_concurrently(total, "4242424242424242"), total / 5);  // the faults did bite
    wait_until_none_pending(std::chrono::seconds(60));
    EXPECT_EQ(count("SELECT count(*) FROM payments WHERE status = 'pending'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM payments WHERE status = 'succeeded'"), total);

    // Stripe's ledger and billpayd's agree one to one, and nobody was charged twice.
    auto charges = stripe->charges();
    auto intents = stripe->intents();
    EXPECT_EQ(charges.size(), static_cast<std::size_t>(total));
    for (const auto& [payment_id, times] : charges) {
        EXPECT_EQ(times, 1) << payment_id;
    }
    pqxx::connection conn(database.dsn());
    pqxx::read_transaction tx(conn);
    for (const auto& row : tx.exec("SELECT id, processor_reference FROM payments")) {
        auto it = intents.find(row[0].as<std::string>());
        ASSERT_NE(it, intents.end()) << row[0].as<std::string>();
        EXPECT_EQ(row[1].as<std::string>(), it->second);
    }
}

}  // namespace

namespace {

TEST_F(Stripe, ACardTokenizedInTheBrowserPaysWithoutBillpaydSeeingTheNumber) {
    start();
    auto c = client();
    // Stripe.js, in the customer's browser, turns the card into a pm_…; the portal sends that.
    auto pm = stripe->browser_payment_method("5555555555554444", 11, 2031);
    auto body = payment_body("");
    body.erase("card");
    body["processor_token"] = pm;
    body["save_payment_method"] = true;
    auto res = pay(c, body, "browser");
    ASSERT_EQ(res.result(), http::status::created) << res.body();
    auto p = json_of(res);
    EXPECT_EQ(p.at("card").at("brand"), "mastercard");
    EXPECT_EQ(p.at("card").at("last4"), "4444");
    EXPECT_EQ(p.at("card").at("exp_month"), 11);
    auto saved = p.at("payment_method");
    ASSERT_TRUE(saved.is_string());

    // Saving the same card again, from a new browser token, finds the saved one.
    auto again = stripe->browser_payment_method("5555555555554444", 11, 2031);
    json::object method{{"account_number", "1001-2002"}, {"processor_token", again}};
    auto res2 = post(c, "/v1/payment_methods", method, portal_key, "browser-save");
    EXPECT_EQ(res2.result(), http::status::ok) << res2.body();
    EXPECT_EQ(json_of(res2).at("id"), saved);
}

TEST_F(Stripe, AnUnknownBrowserTokenIs400AndChangesNothing) {
    start();
    auto c = client();
    auto body = payment_body("");
    body.erase("card");
    body["processor_token"] = "pm_doesnotexist";
    auto res = pay(c, body, "unknown-token");
    EXPECT_EQ(res.result(), http::status::bad_request) << res.body();
    EXPECT_EQ(json_of(res).at("error").at("param"), "processor_token");
    EXPECT_EQ(count("SELECT count(*) FROM payments"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM idempotency_keys"), 0);  // the key is free again

    json::object method{{"account_number", "1001-2002"}, {"processor_token", "pm_doesnotexist"}};
    auto saved = post(c, "/v1/payment_methods", method, portal_key, "unknown-token-pm");
    EXPECT_EQ(saved.result(), http::status::bad_request) << saved.body();
    EXPECT_EQ(count("SELECT count(*) FROM payment_methods"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM idempotency_keys"), 0);
}

}  // namespace

namespace {

class StripeOutage : public Stripe {
  protected:
    std::int64_t attempts(const std::string& id) {
        return count("SELECT recovery_attempts FROM payments WHERE id = '" + id + "'");
    }
};

TEST_F(StripeOutage, ALostAnswerThenStripeRefusingConnectionsStaysPendingAndEndsChargedOnce) {
    // The first attempt's charge is made, but its answer comes after billpayd's deadline.
    stripe->set_late_by(1500ms);
    stripe->set_fault_plan([](const std::string&) { return stripe_server::fault::late; });
    start();
    auto c = client();
    auto res = pay(c, payment_body("4242424242424242", "outage"), "outage");
    ASSERT_EQ(res.result(), http::status::accepted) << res.body();
    auto id = std::string(json_of(res).at("id").as_string());
    stripe->set_fault_plan(nullptr);

    // Stripe refuses every connection through three recovery passes: nothing is learned, so
    // nothing is concluded. (Before, "could not connect" read as "never charged": failed.)
    stripe->stop();
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (attempts(id) < 3 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(100ms);
    }
    ASSERT_GE(attempts(id), 3);
    EXPECT_EQ(text("SELECT status FROM payments"), "pending");
    EXPECT_EQ(text("SELECT needs_review::text FROM payments"), "false");

    // Stripe is back: the lookup under the payment's key gets Stripe's stored answer.
    stripe->start();
    EXPECT_TRUE(status_becomes(id, "succeeded", 15s));
    EXPECT_EQ(stripe->charges().at(id), 1);  // charged once, in Stripe's own ledger
    EXPECT_EQ(text("SELECT processor_reference FROM payments"), stripe->intents().at(id));
    EXPECT_EQ(stripe->rejected_requests(), 0);
}

TEST_F(StripeOutage, ARateLimitedChargeIsPendingNotFailedAndIsMadeOnceLater) {
    // 429: Stripe did nothing with it, but billpayd does not conclude from that.
    std::set<std::string> limited;
    std::mutex m;
    stripe->set_fault_plan([&](const std::string& payment) {
        std::lock_guard lock(m);
        return limited.insert(payment).second ? stripe_server::fault::rate_limited
                                              : stripe_server::fault::none;
    });
    start();
    auto c = client();
    auto res = pay(c, payment_body("4242424242424242", "limited"), "limited");
    ASSERT_EQ(res.result(), http::status::accepted) << res.body();
    auto id = std::string(json_of(res).at("id").as_string());
    EXPECT_EQ(json_of(res).at("status"), "pending");
    // The recovery worker asks again under the same key; Stripe, which saved nothing for the
    // limited request, makes the charge now, once.
    EXPECT_TRUE(status_becomes(id, "succeeded", 15s));
    EXPECT_EQ(stripe->charges().at(id), 1);
    EXPECT_EQ(stripe->rejected_requests(), 0);
}

}  // namespace

namespace {

TEST_F(Stripe, ConnectionsClosedWhileIdleFailNoPaymentAndNoRefund) {
    stripe->close_idle_after(1s);  // as a load balancer with a short idle timeout would
    start();
    auto c = client();
    auto first = pay(c, payment_body("4242424242424242", "idle-1"), "idle-1");
    ASSERT_EQ(first.result(), http::status::created) << first.body();
    json::object card{
        {"number", "5555555555554444"}, {"exp_month", 12}, {"exp_year", 2031}, {"cvc", "123"}};
    auto saved = post(c, "/v1/payment_methods",
                      json::object{{"account_number", "1001-2002"}, {"card", card}}, portal_key,
                      "idle-save");
    ASSERT_EQ(saved.result(), http::status::created) << saved.body();

    std::this_thread::sleep_for(2s);
    auto one_off = pay(c, payment_body("4000056655665556", "idle-2"), "idle-2");
    EXPECT_EQ(one_off.result(), http::status::created) << one_off.body();
    std::this_thread::sleep_for(2s);
    auto body = payment_body("", "idle-3");
    body.erase("card");
    body["payment_method"] = json_of(saved).at("id");
    auto with_saved = pay(c, body, "idle-3");
    EXPECT_EQ(with_saved.result(), http::status::created) << with_saved.body();
    std::this_thread::sleep_for(2s);
    auto refunded =
        post(c, "/v1/payments/" + std::string(json_of(first).at("id").as_string()) + "/refunds",
             json::object{{"reason", "billed twice"}}, finance_key, "idle-refund");
    EXPECT_EQ(refunded.result(), http::status::created) << refunded.body();
    EXPECT_GE(stripe->connections(), 4);  // every pause cost a connection, never a payment
    EXPECT_EQ(stripe->rejected_requests(), 0);
}

class StripeSavedCards : public Stripe {
  protected:
    http_response save(https_client& c, const std::string& number, const std::string& account,
                       const std::string& key) {
        json::object card{
            {"number", number}, {"exp_month", 12}, {"exp_year", 2031}, {"cvc", "123"}};
        return post(c, "/v1/payment_methods",
                    json::object{{"account_number", account}, {"card", card}}, portal_key, key);
    }
    http_response pay_with(https_client& c, const std::string& method, const std::string& bill,
                           const std::string& account = "1001-2002") {
        auto body = payment_body("", bill, 12500, account);
        body.erase("card");
        body["payment_method"] = method;
        return pay(c, body, "pay-" + bill);
    }
    /// The PaymentMethod id behind a saved card (from billpayd's row: the API never shows it).
    std::string stripe_method_of(const std::string& saved_id) {
        pqxx::connection conn(database.dsn());
        pqxx::read_transaction tx(conn);
        auto token = tx.exec_params1("SELECT processor_token FROM payment_methods WHERE id = $1",
                                     saved_id)[0]
                         .as<std::string>();
        return token.substr(token.find('/') + 1);
    }
};

TEST_F(StripeSavedCards, ASavedCardPaysEveryBillAndIsDetachedWhenDeleted) {
    start();
    auto c = client();
    auto saved = save(c, "4242424242424242", "1001-2002", "save-1");
    ASSERT_EQ(saved.result(), http::status::created) << saved.body();
    const std::string id(json_of(saved).at("id").as_string());
    const auto pm = stripe_method_of(id);

    // On a Customer of the account's own, which Stripe knows by a pseudonym only.
    auto customers = stripe->customers();
    ASSERT_EQ(customers.size(), 1u);
    EXPECT_EQ(stripe->customer_of(pm), customers.begin()->first);
    EXPECT_EQ(customers.begin()->second.find("1001"), std::string::npos);

    // Stripe lets a PaymentMethod on no Customer pay once: this one pays every month.
    for (const char* bill : {"2026-09", "2026-10", "2026-11"}) {
        auto res = pay_with(c, id, bill);
        EXPECT_EQ(res.result(), http::status::created) << bill << " " << res.body();
    }
    EXPECT_EQ(stripe->charges().size(), 3u);

    auto deleted =
        c.request(http::verb::delete_, "/v1/payment_methods/" + id + "?account_number=1001-2002",
                  "", auth(portal_key));
    EXPECT_EQ(deleted.result(), http::status::ok) << deleted.body();
    EXPECT_EQ(stripe->customer_of(pm), "");  // detached: Stripe holds it for nobody
    EXPECT_EQ(pay_with(c, id, "2026-12").result(), http::status::bad_request);
    EXPECT_EQ(stripe->rejected_requests(), 0);
}

TEST_F(StripeSavedCards, ALostChargePastStripesKeyMemoryIsLookedUpNeverSentAgain) {
    // A saved card's charge is made, its answer lost; Stripe is then out of reach for longer
    // than it keeps Idempotency-Keys (24 hours). Sent again under the forgotten key, the
    // charge would be made a second time (a saved card pays again and again): recovery must
    // only read what Stripe holds.
    start();
    auto c = client();
    auto saved = save(c, "4242424242424242", "1001-2002", "memory-save");
    ASSERT_EQ(saved.result(), http::status::created) << saved.body();
    stripe->set_late_by(1500ms);  // past billpayd's 500 ms deadline
    stripe->set_fault_plan([](const std::string&) { return stripe_server::fault::late; });
    auto res = pay_with(c, std::string(json_of(saved).at("id").as_string()), "memory");
    ASSERT_EQ(res.result(), http::status::accepted) << res.body();
    const auto id = std::string(json_of(res).at("id").as_string());
    stripe->set_fault_plan(nullptr);

    // A day and an hour later (as the payment's age and Stripe's memory tell it).
    stripe->stop();
    exec(
        "UPDATE payments SET created_at = now() - interval '25 hours', next_recovery_at = now()"
        " WHERE id = '" +
        id + "'");
    stripe->pass_time(std::chrono::hours(25));
    stripe->start();
    EXPECT_TRUE(status_becomes(id, "succeeded", 15s));
    EXPECT_EQ(stripe->charges().at(id), 1);  // found by search, never charged again
    EXPECT_EQ(text("SELECT processor_reference FROM payments WHERE id = '" + id + "'"),
              stripe->intents().at(id));
    const auto calls = stripe->calls();
    EXPECT_EQ(std::count(calls.begin(), calls.end(), "POST /v1/payment_intents"), 1)
        << "the charge was sent again after the replay window";
    EXPECT_EQ(stripe->rejected_requests(), 0);
}

TEST_F(StripeSavedCards, AnotherCustomersPaymentMethodIsRefusedAndTheAccountsOwnPays) {
    start();
    auto c = client();
    // Account 1001-2002 saves a card typed into Stripe.js: billpayd attaches it to the
    // account's Customer.
    const auto pm = stripe->browser_payment_method("4242424242424242", 12, 2031);
    json::object method{{"account_number", "1001-2002"}, {"processor_token", pm}};
    auto saved = post(c, "/v1/payment_methods", method, portal_key, "own-save");
    ASSERT_EQ(saved.result(), http::status::created) << saved.body();
    ASSERT_FALSE(stripe->customer_of(pm).empty());

    // Whoever learns that pm_ id cannot pay another account's bill with it, nor save it.
    auto body = payment_body("", "theft", 12500, "3003-4004");
    body.erase("card");
    body["processor_token"] = pm;
    auto paid = pay(c, body, "theft");
    EXPECT_EQ(paid.result(), http::status::bad_request) << paid.body();
    EXPECT_EQ(json_of(paid).at("error").at("code"), "processor_token_not_owned");
    EXPECT_EQ(json_of(paid).at("error").at("param"), "processor_token");
    json::object steal{{"account_number", "3003-4004"}, {"processor_token", pm}};
    auto kept = post(c, "/v1/payment_methods", steal, portal_key, "theft-save");
    EXPECT_EQ(kept.result(), http::status::bad_request) << kept.body();
    EXPECT_EQ(json_of(kept).at("error").at("code"), "processor_token_not_owned");
    EXPECT_EQ(count("SELECT count(*) FROM payments"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM payment_methods WHERE account_number = '3003-4004'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM idempotency_keys WHERE key LIKE 'theft%'"), 0);
    EXPECT_TRUE(stripe->charges().empty());

    // A PaymentMethod on a Customer billpayd did not make (another system's) is nobody's here.
    const auto elsewhere = stripe->browser_payment_method("5555555555554444", 12, 2031);
    stripe->attach_in_browser(elsewhere, stripe->add_customer(""));
    body["processor_token"] = elsewhere;
    body["account_number"] = "1001-2002";
    EXPECT_EQ(json_of(pay(c, body, "elsewhere")).at("error").at("code"),
              "processor_token_not_owned");

    // The account's own card, sent again as a token, pays.
    body["processor_token"] = pm;
    body["bill_id"] = "own";
    auto own = pay(c, body, "own-pay");
    EXPECT_EQ(own.result(), http::status::created) << own.body();
    EXPECT_EQ(stripe->charges().size(), 1u);
    EXPECT_EQ(stripe->rejected_requests(), 0);
}

TEST_F(StripeSavedCards, AnAccountHasOneCustomerWhateverSearchSeesAndAnotherAccountItsOwn) {
    start();
    auto c = client();
    // Search lags a minute behind: the second card, saved at once, finds the Customer through
    // the account's own Idempotency-Key.
    ASSERT_EQ(save(c, "4242424242424242", "1001-2002", "a-1").result(), http::status::created);
    ASSERT_EQ(save(c, "5555555555554444", "1001-2002", "a-2").result(), http::status::created);
    EXPECT_EQ(stripe->customers().size(), 1u);
    // A day later Stripe has forgotten the key, and search has long caught up.
    stripe->forget_idempotency_keys();
    stripe->set_customer_search_lag(0ms);
    ASSERT_EQ(save(c, "6011111111111117", "1001-2002", "a-3").result(), http::status::created);
    EXPECT_EQ(stripe->customers().size(), 1u);

    ASSERT_EQ(save(c, "4242424242424242", "3003-4004", "b-1").result(), http::status::created);
    EXPECT_EQ(stripe->customers().size(), 2u);
    EXPECT_EQ(pay_with(c,
                       std::string(json_of(get(c, "/v1/payment_methods?account_number=3003-4004"))
                                       .at("data")
                                       .at(0)
                                       .at("id")
                                       .as_string()),
                       "b-bill", "3003-4004")
                  .result(),
              http::status::created);
    EXPECT_EQ(stripe->rejected_requests(), 0);
}

TEST_F(StripeSavedCards, ACardSavedWithItsPaymentPaysAgainAndAOneOffCardStaysOffEveryCustomer) {
    start();
    auto c = client();
    auto one_off = pay(c, payment_body("4242424242424242", "one-off"), "one-off");
    ASSERT_EQ(one_off.result(), http::status::created) << one_off.body();
    EXPECT_TRUE(stripe->customers().empty());  // nothing made for a card not kept

    auto body = payment_body("5555555555554444", "first");
    body["save_payment_method"] = true;
    auto first = pay(c, body, "first");
    ASSERT_EQ(first.result(), http::status::created) << first.body();
    const std::string saved(json_of(first).at("payment_method").as_string());
    auto again = pay_with(c, saved, "second");
    EXPECT_EQ(again.result(), http::status::created) << again.body();
    EXPECT_EQ(stripe->customers().size(), 1u);

    // A card saved from the browser (Stripe.js) goes on the Customer too, and pays twice.
    auto browser = payment_body("");
    browser.erase("card");
    browser["processor_token"] = stripe->browser_payment_method("6011111111111117", 10, 2032);
    browser["save_payment_method"] = true;
    browser["bill_id"] = "third";
    auto third = pay(c, browser, "third");
    ASSERT_EQ(third.result(), http::status::created) << third.body();
    auto fourth =
        pay_with(c, std::string(json_of(third).at("payment_method").as_string()), "fourth");
    EXPECT_EQ(fourth.result(), http::status::created) << fourth.body();
    EXPECT_EQ(stripe->customers().size(), 1u);
    EXPECT_EQ(stripe->rejected_requests(), 0);
}

TEST_F(Stripe, StripeSeesNoAccountNumberAndNoBill) {
    start();
    auto c = client();
    auto res = pay(c, payment_body("4242424242424242", "bill-QZX-7"), "see-1");
    ASSERT_EQ(res.result(), http::status::created) << res.body();
    int leaks = 0;
    for (const auto& body : stripe->bodies()) {  // never printed: tokenize bodies hold card data
        leaks += body.find("1001-2002") != std::string::npos ? 1 : 0;
        leaks += body.find("QZX") != std::string::npos ? 1 : 0;
    }
    EXPECT_EQ(leaks, 0);
    EXPECT_FALSE(stripe->bodies().empty());
}

}  // namespace

namespace {

/// The adapter alone against the fake: what it sends Stripe, and when it only reads.
class StripeAdapter : public ::testing::Test {
  protected:
    void SetUp() override {
        ca = make_ca(dir.path(), "test-ca");
        fake = std::make_unique<stripe_server>(
            make_certificate(dir.path(), "stripe", "localhost", ca), stripe_secret_key,
            billpay::gateway::stripe::api_version);
        billpay::config::stripe_settings s;
        s.api_base = fake->api_base();
        s.secret_key = billpay::config::secret(stripe_secret_key);
        s.ca_file = ca.certificate;
        s.timeout = 5s;
        adapter = std::make_unique<billpay::gateway::stripe::stripe_gateway>(s, ioc.get_executor());
    }

    template <class T>
    T run(boost::asio::awaitable<T> work) {
        return billpay::test::run_to_end(ioc, std::move(work));
    }
    static billpay::gateway::deadline soon() { return std::chrono::steady_clock::now() + 5s; }
    static std::string hours_ago(int h) {
        return billpay::model::rfc3339_utc(std::chrono::system_clock::now() -
                                           std::chrono::hours(h));
    }
    /// A charge of 5000 cents for `payment_id` with a card made in the browser.
    billpay::gateway::charge_request charge_of(const std::string& number,
                                               const std::string& payment_id) {
        return {fake->browser_payment_method(number, 12, 2031),
                {5000, *billpay::model::currency::parse("USD")},
                payment_id,
                "Utility bill",
                hours_ago(0)};
    }
    std::int64_t posts(const std::string& path) const {
        const auto calls = fake->calls();
        return std::count(calls.begin(), calls.end(), "POST " + path);
    }

    temp_dir dir;
    tls_files ca;
    std::unique_ptr<stripe_server> fake;
    boost::asio::io_context ioc;
    std::unique_ptr<billpay::gateway::stripe::stripe_gateway> adapter;
};

TEST_F(StripeAdapter, PastTheReplayWindowALookupOnlySearchesAndReadsADeclineThere) {
    using billpay::gateway::outcome;
    auto declined = charge_of("4000000000000002", "pay_declined");
    ASSERT_EQ(run(adapter->charge(declined, soon())).result, outcome::declined);
    auto charged = charge_of("4242424242424242", "pay_charged");
    ASSERT_EQ(run(adapter->charge(charged, soon())).result, outcome::approved);
    fake->pass_time(std::chrono::hours(25));  // Stripe forgot both keys

    declined.created_at = hours_ago(25);
    auto found = run(adapter->lookup(declined, soon()));
    EXPECT_EQ(found.result, outcome::declined);
    EXPECT_EQ(found.decline_code, "generic_decline");
    charged.created_at = hours_ago(25);
    auto again = run(adapter->lookup(charged, soon()));
    EXPECT_EQ(again.result, outcome::approved);
    EXPECT_EQ(again.processor_reference, fake->intents().at("pay_charged"));
    // Never found: unknown (search lags; the key is gone), and nothing sent.
    auto never = charge_of("4242424242424242", "pay_never");
    never.created_at = hours_ago(25);
    EXPECT_EQ(run(adapter->lookup(never, soon())).result, outcome::unknown);
    EXPECT_EQ(posts("/v1/payment_intents"), 2);  // the two charges, no resend
    EXPECT_EQ(fake->charges().at("pay_charged"), 1);
    EXPECT_EQ(fake->rejected_requests(), 0);
}

TEST_F(StripeAdapter, SettlementsComeAsStripesReportFileNotThroughTheApi) {
    const std::string first_day = "2026-11-25";
    const std::string last_day = "2026-11-26";
    auto pulled = run(
        adapter->settlements(first_day, last_day, *billpay::model::currency::parse("USD"), soon()));
    EXPECT_EQ(pulled.result, billpay::gateway::outcome::declined);
    EXPECT_TRUE(fake->calls().empty());
}

TEST_F(StripeAdapter, ARefundAskedAgainPastTheReplayWindowIsFoundInTheListNeverSentAgain) {
    using billpay::gateway::outcome;
    auto charged = charge_of("4242424242424242", "pay_refunded");
    auto made = run(adapter->charge(charged, soon()));
    ASSERT_EQ(made.result, outcome::approved);
    billpay::gateway::refund_request refund{made.processor_reference,
                                            {2000, *billpay::model::currency::parse("USD")},
                                            "ref_first",
                                            charged.token,
                                            "4242",
                                            false,
                                            hours_ago(0)};
    auto first = run(adapter->refund(refund, soon()));
    ASSERT_EQ(first.result, outcome::approved) << first.message;
    fake->pass_time(std::chrono::hours(25));
    refund.retry = true;
    refund.requested_at = hours_ago(25);
    auto again = run(adapter->refund(refund, soon()));
    EXPECT_EQ(again.result, outcome::approved) << again.message;
    EXPECT_EQ(again.processor_reference, first.processor_reference);
    EXPECT_EQ(fake->refunded().at("pay_refunded"), 2000);  // once
    // One Stripe never made is not concluded either way, and not sent.
    refund.idempotency_key = "ref_never";
    EXPECT_EQ(run(adapter->refund(refund, soon())).result, outcome::unknown);
    EXPECT_EQ(posts("/v1/refunds"), 1);
    EXPECT_EQ(fake->rejected_requests(), 0);
}

}  // namespace
