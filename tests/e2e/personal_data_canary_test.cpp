// The personal-data canary, like the card canary: pay, save a card, refund, export, report and
// purge with distinctive names, emails and account numbers, then search everything billpayd
// said or sent for them. They may appear only where docs/privacy.md says they belong: the
// customer's own answers and export, the receipts, the processor's address and name checks
// (the cardholder's name and postal code in Stripe's billing_details), and, until retention
// reduces the payment, its row.
#include <gmock/gmock.h>

#include <boost/json/parse.hpp>

#include "tests/e2e/stripe_fixture.hpp"

namespace {

using namespace billpay::test;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
namespace json = boost::json;

const std::string account = "CANARY-7731";
const std::string customer_name = "Zebulon Quixcanary";
const std::string email = "zq.canary@example.net";
const std::string cardholder = "Zebulon Q Cardholder";
const std::string postal_code = "60644";

class PersonalDataCanary : public Stripe {
  protected:
    void exec(const std::string& sql) {
        pqxx::connection conn(database.dsn());
        pqxx::work tx(conn);
        tx.exec(sql);
        tx.commit();
    }
};

TEST_F(PersonalDataCanary, NamesEmailsAndAccountNumbersGoOnlyWhereTheyBelong) {
    config.log_level = "trace";
    start();
    auto c = client();
    auto body = payment_body("4242424242424242", "2026-11", 7300, account);
    body["customer"] = json::object{{"name", customer_name}, {"email", email}};
    body["card"].as_object()["name"] = cardholder;
    body["card"].as_object()["postal_code"] = postal_code;
    body["save_payment_method"] = true;
    auto paid = pay(c, body, "canary-1");
    ASSERT_EQ(paid.result(), http::status::created) << paid.body();
    const std::string id(json_of(paid).at("id").as_string());
    auto again = payment_body("", "2026-12", 7300, account);
    again.erase("card");
    again["payment_method"] = json_of(paid).at("payment_method");
    again["customer"] = body["customer"];
    ASSERT_EQ(pay(c, again, "canary-2").result(), http::status::created);
    auto refunded = post(c, "/v1/payments/" + id + "/refunds",
                         json::object{{"amount", 300}, {"reason", "estimated reading corrected"}},
                         finance_key, "canary-refund");
    ASSERT_EQ(refunded.result(), http::status::created) << refunded.body();
    auto corrected = c.request(http::verb::patch, "/v1/accounts/" + account,
                               R"({"email": "zq.canary@example.net"})", auth(portal_key));
    ASSERT_EQ(corrected.result(), http::status::ok) << corrected.body();
    ASSERT_EQ(get(c, "/v1/accounts/" + account + "/export", finance_key).result(),
              http::status::ok);
    auto exported = capture_command(ctl() + " customer export --account " + account);
    EXPECT_THAT(exported, HasSubstr(email));  // the customer's own data: where it belongs

    // What finance and operators see: reports and metrics.
    const auto today = local_day();
    std::string seen;
    for (const char* format : {"csv", "html", "json"}) {
        seen += capture_command(ctl() + " report daily --from " + today + " --to " + today +
                                " --format " + format);
    }
    seen += capture_command(ctl() + " report gl --date " + today);
    seen += get(c, "/v1/reports/daily?from=" + today + "&to=" + today, finance_key).body();
    seen += get(c, "/metrics", ops_key).body();
    seen += capture_command(ctl() + " receipts list --status delivered");
    ASSERT_THAT(seen, HasSubstr("146.00"));
    // The audit trail names the account (the export's row), never the customer.
    const auto audit = capture_command(ctl() + " audit list --limit 100");
    ASSERT_THAT(audit, HasSubstr("customer.exported"));

    // Retention reduces the payments (back-dated past retention.payment_days).
    exec("UPDATE payments SET created_at = created_at - interval '600 days'");
    exec("UPDATE refunds SET created_at = created_at - interval '600 days'");
    exec("UPDATE idempotency_keys SET created_at = created_at - interval '600 days'");
    exec("UPDATE outbox_messages SET created_at = created_at - interval '600 days'");
    exec("UPDATE account_contacts SET updated_at = updated_at - interval '600 days'");
    ASSERT_EQ(run_command(ctl() + " purge >/dev/null"), 0);
    auto dump = capture_command("pg_dump --data-only --inserts -d '" + database.dsn() + "'");
    ASSERT_THAT(dump, HasSubstr(id));

    daemon->send_signal(SIGTERM);
    daemon->wait_exit();
    const auto log = daemon->log();
    ASSERT_GT(log.size(), 1000u);

    for (const std::string& canary : {customer_name, email, cardholder, account}) {
        EXPECT_THAT(log, Not(HasSubstr(canary))) << "the log names " << canary;
        EXPECT_THAT(seen, Not(HasSubstr(canary))) << "a report or /metrics names " << canary;
    }
    for (const std::string& canary : {customer_name, email, cardholder, postal_code}) {
        EXPECT_THAT(dump, Not(HasSubstr(canary))) << "purged rows keep " << canary;
        EXPECT_THAT(audit, Not(HasSubstr(canary))) << "the audit trail names " << canary;
    }
    // The account number stays for reconciliation and the ledger: docs/privacy.md.
    EXPECT_THAT(dump, HasSubstr(account));

    // The processor hears the cardholder's name and postal code for its checks, and nothing
    // else of the customer: no account number, no email, no customer name.
    for (const auto& sent : stripe->bodies()) {  // never printed: they hold card data
        EXPECT_EQ(sent.find("CANARY"), std::string::npos) << "Stripe saw the account number";
        EXPECT_EQ(sent.find("zq.canary"), std::string::npos) << "Stripe saw the email";
        EXPECT_EQ(sent.find("Quixcanary"), std::string::npos) << "Stripe saw the customer's name";
    }
    EXPECT_EQ(stripe->billing_details(),
              (std::vector<std::pair<std::string, std::string>>{{cardholder, postal_code}}));
    EXPECT_EQ(stripe->rejected_requests(), 0);
}

}  // namespace
