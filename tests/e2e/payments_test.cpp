// POST /v1/payments through the real billpayd over HTTPS against real PostgreSQL: every
// simulator outcome, saved cards, paging, roles and account scoping.
#include <gmock/gmock.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <map>
#include <sstream>

#include "tests/e2e/payments_fixture.hpp"

namespace {

using namespace billpay::test;
using namespace std::chrono_literals;
namespace json = boost::json;
using ::testing::StartsWith;

class Payments : public payments_fixture {};

TEST_F(Payments, AnApprovedCardIs201WithThePaymentAndNoCardData) {
    start();
    auto c = client();
    auto res = pay(c, payment_body("4242424242424242"), "key-1");
    ASSERT_EQ(res.result(), http::status::created) << res.body();
    auto p = json_of(res).as_object();
    EXPECT_THAT(std::string(p.at("id").as_string()), StartsWith("pay_"));
    EXPECT_EQ(p.at("object"), "payment");
    EXPECT_EQ(p.at("status"), "succeeded");
    EXPECT_EQ(p.at("amount"), 12500);
    EXPECT_EQ(p.at("amount_refunded"), 0);
    EXPECT_EQ(p.at("currency"), "USD");
    EXPECT_EQ(p.at("account_number"), "1001-2002");
    EXPECT_EQ(p.at("bill_id"), "2026-11");
    EXPECT_EQ(p.at("card").at("brand"), "visa");
    EXPECT_EQ(p.at("card").at("last4"), "4242");
    EXPECT_EQ(p.at("card").at("exp_month"), 12);
    EXPECT_EQ(p.at("card").at("exp_year"), 2031);
    EXPECT_EQ(p.at("processor"), "simulator");
    EXPECT_THAT(std::string(p.at("processor_reference").as_string()), StartsWith("sim_ch_"));
    EXPECT_EQ(p.at("confirmation").as_string().size(), 11u);
    EXPECT_EQ(res.body().find("4242424242424242"), std::string::npos);
    EXPECT_EQ(processor_charges(), 1);
}

TEST_F(Payments, EachRequestIsOneInfoLineNamingItsPaymentAndNoneIsLostOnSigterm) {
    config.log_level = "info";
    start();
    auto c = client();
    std::vector<std::string> ids;
    for (int i = 0; i < 40; ++i) {
        auto res = pay(c, payment_body("4242424242424242", "bill-" + std::to_string(i)),
                       "log-" + std::to_string(i));
        ASSERT_EQ(res.result(), http::status::created) << res.body();
        ids.emplace_back(json_of(res).at("id").as_string());
    }
    auto declined = pay(c, payment_body("4000000000000002", "bill-declined"), "log-declined");
    ASSERT_EQ(declined.result(), http::status::payment_required);
    auto replayed = pay(c, payment_body("4242424242424242", "bill-0"), "log-0");
    ASSERT_EQ(replayed.result(), http::status::created);
    // Straight after the last answer, before the buffered log is due: SIGTERM loses nothing.
    daemon->send_signal(SIGTERM);
    ASSERT_EQ(daemon->wait_exit(10s), 0);

    std::map<std::string, int> lines_of_payment;
    int request_lines = 0;
    bool replay_logged = false;
    bool decline_logged = false;
    std::istringstream log(daemon->log());
    for (std::string line; std::getline(log, line);) {
        auto entry = json::parse(line).as_object();
        EXPECT_NE(entry.at("message"), "charge") << "the detail line is debug, not info";
        if (entry.at("message") != "request" || entry.at("path") != "/v1/payments") {
            continue;
        }
        ++request_lines;
        const std::string outcome(entry.at("outcome").as_string());
        if (outcome == "replayed") {
            replay_logged = true;
        } else if (outcome == "declined") {
            decline_logged = entry.at("status") == 402;
        } else {
            EXPECT_EQ(outcome, "succeeded") << line;
            ++lines_of_payment[std::string(entry.at("payment_id").as_string())];
        }
    }
    EXPECT_EQ(request_lines, 42);
    EXPECT_TRUE(replay_logged);
    EXPECT_TRUE(decline_logged);
    for (const auto& id : ids) {
        EXPECT_EQ(lines_of_payment[id], 1) << id;
    }
    EXPECT_THAT(daemon->log(), ::testing::HasSubstr("\"message\":\"stopped\""));
}

struct declined_card {
    const char* number;
    const char* decline_code;
};

TEST_F(Payments, EachDeclineCardIs402CardErrorNamingThePayment) {
    start();
    auto c = client();
    int n = 0;
    for (auto card : {declined_card{"4000000000000002", "generic_decline"},
                      declined_card{"4000000000009995", "insufficient_funds"},
                      declined_card{"4000000000000069", "expired_card"},
                      declined_card{"4000000000000127", "incorrect_cvc"}}) {
        auto res = pay(c, payment_body(card.number, "bill-" + std::to_string(n)),
                       "decline-" + std::to_string(n));
        ++n;
        ASSERT_EQ(res.result(), http::status::payment_required) << card_label(card.number);
        auto error = json_of(res).at("error");
        EXPECT_EQ(error.at("type"), "card_error");
        EXPECT_EQ(error.at("code"), "card_declined");
        EXPECT_EQ(error.at("decline_code"), card.decline_code);
        EXPECT_EQ(error.at("payment").at("status"), "declined");
        EXPECT_EQ(error.at("payment").at("decline_code"), card.decline_code);
        auto id = std::string(error.at("payment").at("id").as_string());
        EXPECT_EQ(json_of(get(c, "/v1/payments/" + id + "?account_number=1001-2002")).at("status"),
                  "declined");
    }
}

TEST_F(Payments, AProcessingErrorIsAFailedPaymentThatChargedNothing) {
    start();
    auto c = client();
    auto res = pay(c, payment_body("4000000000000119"), "k");
    ASSERT_EQ(res.result(), http::status::payment_required);
    auto error = json_of(res).at("error");
    EXPECT_EQ(error.at("code"), "processing_error");
    EXPECT_EQ(error.at("payment").at("status"), "failed");
    EXPECT_EQ(processor_charges(), 0);
}

TEST_F(Payments, OtherValidTestNumbersOfEveryBrandApprove) {
    start();
    auto c = client();
    struct brand_card {
        const char* number;
        const char* brand;
    };
    int n = 0;
    for (auto card :
         {brand_card{"5555555555554444", "mastercard"},
          brand_card{"2223003122003222", "mastercard"}, brand_card{"378282246310005", "amex"},
          brand_card{"6011111111111117", "discover"}, brand_card{"3566002020360505", "jcb"},
          brand_card{"36227206271667", "diners"}, brand_card{"6200000000000005", "unionpay"},
          brand_card{"4000056655665556", "visa"}}) {
        auto res = pay(c, payment_body(card.number, "b" + std::to_string(n)),
                       "brand-" + std::to_string(n));
        ++n;
        ASSERT_EQ(res.result(), http::status::created)
            << card_label(card.number) << " " << res.body();
        EXPECT_EQ(json_of(res).at("card").at("brand"), card.brand);
    }
}

TEST_F(Payments, ALostAnswerIs202PendingAndTheRecoveryWorkerFinishesIt) {
    start();
    auto c = client();
    auto res = pay(c, payment_body("4000000000000259"), "lost");
    ASSERT_EQ(res.result(), http::status::accepted) << res.body();
    auto p = json_of(res);
    EXPECT_EQ(p.at("status"), "pending");
    auto id = std::string(p.at("id").as_string());
    EXPECT_TRUE(status_becomes(id, "succeeded", 10s));
    // Charged once, never again by the recovery.
    EXPECT_EQ(processor_charges(), 1);
    // The key replays what the first request answered: 202, byte for byte.
    auto again = pay(c, payment_body("4000000000000259"), "lost");
    EXPECT_EQ(again.result(), http::status::accepted);
    EXPECT_EQ(again.body(), res.body());
}

TEST_F(Payments, AnOutcomeThatStaysUnknownIsFlaggedForFinance) {
    start();
    auto c = client();
    auto res = pay(c, payment_body("4000000000001976"), "never");
    ASSERT_EQ(res.result(), http::status::accepted);
    auto id = std::string(json_of(res).at("id").as_string());
    auto deadline = std::chrono::steady_clock::now() + 15s;
    json::value listed;
    while (std::chrono::steady_clock::now() < deadline) {
        listed = json_of(get(c, "/v1/payments?requires_review=true", finance_key));
        if (!listed.at("data").as_array().empty()) {
            break;
        }
        std::this_thread::sleep_for(200ms);
    }
    ASSERT_EQ(listed.at("data").as_array().size(), 1u);
    EXPECT_EQ(listed.at("data").at(0).at("id"), json::value(id));
    EXPECT_EQ(listed.at("data").at(0).at("status"), "pending");
    EXPECT_EQ(listed.at("data").at(0).at("requires_review"), true);
}

TEST_F(Payments, ASavedCardPaysLaterBillsAndSavingItTwiceFindsTheSameOne) {
    start();
    auto c = client();
    json::object body{{"account_number", "1001-2002"},
                      {"card", payment_body("5555555555554444").at("card")}};
    auto first = post(c, "/v1/payment_methods", body, portal_key, "pm-1");
    ASSERT_EQ(first.result(), http::status::created) << first.body();
    auto pm = std::string(json_of(first).at("id").as_string());
    EXPECT_THAT(pm, StartsWith("pm_"));
    EXPECT_EQ(json_of(first).at("card").at("last4"), "4444");

    auto second = post(c, "/v1/payment_methods", body, portal_key, "pm-2");
    EXPECT_EQ(second.result(), http::status::ok);
    EXPECT_EQ(json_of(second).at("id"), json::value(pm));
    EXPECT_EQ(processor_tokens(), 1);  // the spare token is deleted

    auto listed = json_of(get(c, "/v1/payment_methods?account_number=1001-2002"));
    ASSERT_EQ(listed.at("data").as_array().size(), 1u);

    auto payment = payment_body("");
    payment.erase("card");
    payment["payment_method"] = pm;
    auto paid = pay(c, payment, "pay-with-pm");
    ASSERT_EQ(paid.result(), http::status::created) << paid.body();
    EXPECT_EQ(json_of(paid).at("payment_method"), json::value(pm));
    EXPECT_EQ(json_of(paid).at("card").at("last4"), "4444");

    // Another account cannot use it, read it or delete it.
    payment["account_number"] = "9999-0000";
    payment["bill_id"] = "x";
    auto stranger = pay(c, payment, "stranger");
    EXPECT_EQ(stranger.result(), http::status::bad_request);
    EXPECT_EQ(json_of(stranger).at("error").at("param"), "payment_method");
    EXPECT_EQ(
        c.request(http::verb::delete_, "/v1/payment_methods/" + pm + "?account_number=9999-0000",
                  "", auth(portal_key))
            .result(),
        http::status::not_found);

    auto deleted =
        c.request(http::verb::delete_, "/v1/payment_methods/" + pm + "?account_number=1001-2002",
                  "", auth(portal_key));
    EXPECT_EQ(deleted.result(), http::status::ok);
    EXPECT_EQ(json_of(deleted).at("deleted"), true);
    EXPECT_TRUE(json_of(get(c, "/v1/payment_methods?account_number=1001-2002"))
                    .at("data")
                    .as_array()
                    .empty());
    payment["account_number"] = "1001-2002";
    payment["bill_id"] = "later";
    EXPECT_EQ(pay(c, payment, "after-delete").result(), http::status::bad_request);
}

TEST_F(Payments, SavePaymentMethodOnAPaymentSavesTheCard) {
    start();
    auto c = client();
    auto body = payment_body("6011111111111117");
    body["save_payment_method"] = true;
    auto res = pay(c, body, "save");
    ASSERT_EQ(res.result(), http::status::created);
    auto pm = json_of(res).at("payment_method");
    ASSERT_TRUE(pm.is_string());
    auto listed = json_of(get(c, "/v1/payment_methods?account_number=1001-2002"));
    EXPECT_EQ(listed.at("data").at(0).at("id"), pm);
}

TEST_F(Payments, ListsPageNewestFirstWithACursor) {
    start();
    auto c = client();
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) {
        auto res = pay(c, payment_body("4242424242424242", "page-" + std::to_string(i)),
                       "page-" + std::to_string(i));
        ids.push_back(std::string(json_of(res).at("id").as_string()));
    }
    pay(c, payment_body("4242424242424242", "x", 100, "7777-0000"), "other-account");
    std::vector<std::string> seen;
    std::string cursor;
    for (int page = 0; page < 3; ++page) {
        auto target = "/v1/payments?account_number=1001-2002&limit=2" +
                      (cursor.empty() ? "" : "&starting_after=" + cursor);
        auto list = json_of(get(c, target));
        for (const auto& p : list.at("data").as_array()) {
            seen.push_back(std::string(p.at("id").as_string()));
        }
        cursor = seen.back();
        EXPECT_EQ(list.at("has_more"), page < 2);
    }
    EXPECT_EQ(seen, std::vector<std::string>(ids.rbegin(), ids.rend()));
    // A cursor from another account is refused, not followed.
    auto other = json_of(get(c, "/v1/payments?account_number=7777-0000"));
    auto other_id = std::string(other.at("data").at(0).at("id").as_string());
    EXPECT_EQ(get(c, "/v1/payments?account_number=1001-2002&starting_after=" + other_id).result(),
              http::status::bad_request);
}

TEST_F(Payments, ThePortalSeesOnlyTheAccountItNames) {
    start();
    auto c = client();
    auto res = pay(c, payment_body("4242424242424242"), "scope");
    auto id = std::string(json_of(res).at("id").as_string());
    EXPECT_EQ(get(c, "/v1/payments/" + id + "?account_number=1001-2002").result(),
              http::status::ok);
    EXPECT_EQ(get(c, "/v1/payments/" + id + "?account_number=2002-3003").result(),
              http::status::not_found);
    auto no_account = get(c, "/v1/payments/" + id);
    EXPECT_EQ(no_account.result(), http::status::bad_request);
    EXPECT_EQ(json_of(no_account).at("error").at("param"), "account_number");
    EXPECT_EQ(get(c, "/v1/payments").result(), http::status::bad_request);
    EXPECT_TRUE(
        json_of(get(c, "/v1/payments?account_number=2002-3003")).at("data").as_array().empty());
}

TEST_F(Payments, BillIdsAndAccountNumbersOfLongDigitRunsPayLikeAnyOther) {
    // A utility's bill and account numbers are often long digit strings; some pass the Luhn
    // check. They are identifiers: stored and echoed as they are. (Bodies are not printed:
    // these digits are a published test card number.)
    start();
    auto c = client();
    const std::string digits = "4111111111111111";
    auto res = pay(c, payment_body("4242424242424242", digits, 12500, digits), "digits-1");
    ASSERT_EQ(res.result(), http::status::created);
    auto p = json_of(res);
    EXPECT_EQ(p.at("bill_id"), boost::json::value(digits));
    EXPECT_EQ(p.at("account_number"), boost::json::value(digits));
    auto dashed = pay(c, payment_body("4242424242424242", "4111-1111-1111-1111", 100, "1001-2002"),
                      "digits-2");
    EXPECT_EQ(dashed.result(), http::status::created);

    auto listed = get(c, "/v1/payments?account_number=" + digits);
    ASSERT_EQ(listed.result(), http::status::ok);
    EXPECT_EQ(json_of(listed).at("data").as_array().size(), 1u);
    const std::string id(p.at("id").as_string());
    EXPECT_EQ(get(c, "/v1/payments/" + id + "?account_number=" + digits).result(),
              http::status::ok);
    EXPECT_EQ(text("SELECT bill_id FROM payments WHERE id = '" + id + "'"), digits);

    boost::json::object card{{"account_number", digits},
                             {"card", payment_body("5555555555554444").at("card")}};
    EXPECT_EQ(post(c, "/v1/payment_methods", card, portal_key, "digits-3").result(),
              http::status::created);
    // Free text is still guarded.
    auto named = payment_body("4242424242424242", "2026-12");
    named["customer"].as_object()["name"] = "Ada " + digits;
    auto refused = pay(c, named, "digits-4");
    EXPECT_EQ(refused.result(), http::status::bad_request);
    EXPECT_EQ(json_of(refused).at("error").at("code"), "card_number_in_text");
}

TEST_F(Payments, FinanceReadsEverythingOpsNothingAndStrangersAreRefused) {
    start();
    auto c = client();
    auto res = pay(c, payment_body("4242424242424242"), "roles");
    auto id = std::string(json_of(res).at("id").as_string());
    EXPECT_EQ(get(c, "/v1/payments/" + id, finance_key).result(), http::status::ok);
    EXPECT_EQ(
        json_of(get(c, "/v1/payments?status=succeeded", finance_key)).at("data").as_array().size(),
        1u);
    EXPECT_EQ(
        get(c, "/v1/payments?created[gte]=2000-01-01&created[lt]=2999-01-01", finance_key).result(),
        http::status::ok);

    auto ops = get(c, "/v1/payments/" + id + "?account_number=1001-2002", ops_key);
    EXPECT_EQ(ops.result(), http::status::forbidden);
    EXPECT_EQ(json_of(ops).at("error").at("type"), "permission_error");
    EXPECT_EQ(pay(c, payment_body("4242424242424242", "f"), "f", finance_key).result(),
              http::status::forbidden);

    auto none = c.request(http::verb::get, "/v1/payments?account_number=1001-2002");
    EXPECT_EQ(none.result(), http::status::unauthorized);
    EXPECT_EQ(json_of(none).at("error").at("type"), "authentication_error");
    auto wrong = get(c, "/v1/payments?account_number=1001-2002", portal_key + "x");
    EXPECT_EQ(wrong.result(), http::status::unauthorized);
}

}  // namespace

namespace {

class ClientCertificateAuth : public payments_fixture {
  protected:
    void SetUp() override {
        payments_fixture::SetUp();
        config.client_ca = ca.certificate;
        config.extra_root =
            "clients:\n"
            "  - {id: portal, role: portal, certificate_cn: portal-app}\n"
            "  - {id: finance, role: finance, api_key_sha256: \"" +
            sha256_line(finance_key) + "\", certificate_cn: finance-app}\n" + gateway_yaml() +
            payments_yaml();
        start_with_certificate();
    }
    void start_with_certificate() { start(); }
};

TEST_F(ClientCertificateAuth, ACertificateNamesTheClientWithoutAnApiKey) {
    auto portal_cert = make_certificate(dir.path(), "portal-app", "portal-app", ca);
    https_client c(daemon->port(), {.client_certificate = portal_cert});
    auto res = c.request(http::verb::post, "/v1/payments",
                         json::serialize(payment_body("4242424242424242")),
                         {{"Idempotency-Key", "cert-1"}});
    EXPECT_EQ(res.result(), http::status::created) << res.body();
    // The certificate makes this connection the portal: finance-only filters are refused.
    EXPECT_EQ(c.request(http::verb::get, "/v1/payments?requires_review=true").result(),
              http::status::bad_request);
}

TEST_F(ClientCertificateAuth, AKeyAndACertificateOfDifferentClientsAreRefused) {
    auto portal_cert = make_certificate(dir.path(), "portal-app", "portal-app", ca);
    https_client c(daemon->port(), {.client_certificate = portal_cert});
    auto res = c.request(http::verb::get, "/v1/payments", "",
                         {{"Authorization", "Bearer " + finance_key}});
    EXPECT_EQ(res.result(), http::status::unauthorized);
}

TEST_F(ClientCertificateAuth, AResumedSessionIsStillTheClientItsCertificateNames) {
    // curl, Java and Node offer to resume by default: that must neither fail the handshake nor
    // lose who the client is.
    auto portal_cert = make_certificate(dir.path(), "portal-app", "portal-app", ca);
    for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
        client_tls tls{
            .min_version = version, .max_version = version, .client_certificate = portal_cert};
        https_client first(daemon->port(), tls);
        ASSERT_EQ(first.request(http::verb::get, "/v1/payments?account_number=1001-2002").result(),
                  http::status::ok);
        https_client again(daemon->port(), tls);
        again.resume(first.session());
        ASSERT_FALSE(again.connect()) << version;
        EXPECT_TRUE(again.resumed()) << version;
        auto res = again.request(http::verb::post, "/v1/payments",
                                 json::serialize(payment_body(
                                     "4242424242424242", "2026-0" + std::to_string(version & 0xf))),
                                 {{"Idempotency-Key", "resumed-" + std::to_string(version)}});
        EXPECT_EQ(res.result(), http::status::created) << version << res.body();
        // Still the portal: a finance-only filter is refused.
        EXPECT_EQ(again.request(http::verb::get, "/v1/payments?requires_review=true").result(),
                  http::status::bad_request);
    }
}

TEST_F(ClientCertificateAuth, ACertificateNamingNoClientIsRefusedEvenWithAValidKey) {
    // Both must name the same client: a key does not vouch for a stranger's certificate.
    auto stranger = make_certificate(dir.path(), "stranger", "someone-else", ca);
    https_client c(daemon->port(), {.client_certificate = stranger});
    auto res = c.request(http::verb::get, "/v1/payments?account_number=1001-2002", "",
                         {{"Authorization", "Bearer " + finance_key}});
    EXPECT_EQ(res.result(), http::status::unauthorized);
    EXPECT_THAT(json_of(res).at("error").at("message").as_string().c_str(),
                ::testing::HasSubstr("names no client"));
}

TEST_F(ClientCertificateAuth, ACertificateWithTwoCommonNamesNamesNobody) {
    // Read as its first CN it would be the portal, as its last someone else: neither is trusted.
    for (std::string subject : {"/CN=portal-app/CN=someone-else", "/CN=someone-else/CN=portal-app",
                                "/CN=portal-app/CN=portal-app"}) {
        auto two = make_certificate_with_subject(dir.path(), "two", subject, ca);
        https_client c(daemon->port(), {.client_certificate = two});
        auto res = c.request(http::verb::post, "/v1/payments",
                             json::serialize(payment_body("4242424242424242")),
                             {{"Idempotency-Key", "two-cn"}});
        EXPECT_EQ(res.result(), http::status::unauthorized) << subject;
    }
    EXPECT_EQ(count("SELECT count(*) FROM payments"), 0);
}

TEST_F(ClientCertificateAuth, ACertificateNoClientNamesIsNotEnough) {
    auto stranger = make_certificate(dir.path(), "stranger", "someone-else", ca);
    https_client c(daemon->port(), {.client_certificate = stranger});
    EXPECT_EQ(c.request(http::verb::get, "/v1/payments?account_number=1001-2002").result(),
              http::status::unauthorized);
}

}  // namespace
