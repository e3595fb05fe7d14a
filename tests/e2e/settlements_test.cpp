// Settlements from the real processors' formats: Stripe's itemized payout reconciliation report
// for payments made through the Stripe fake, and Authorize.Net's settled batches pulled from its
// fake, each reconciled to zero exceptions against what billpayd recorded.
#include <gmock/gmock.h>

#include <boost/json/parse.hpp>

#include "gateway_adapters/stripe/stripe_gateway.hpp"
#include "tests/e2e/payments_fixture.hpp"
#include "tests/fakes/authorizenet_server.hpp"
#include "tests/fakes/stripe_server.hpp"

namespace {

using namespace billpay::test;
using ::testing::HasSubstr;
namespace json = boost::json;

class settlement_fixture : public payments_fixture {
  protected:
    json::value refund(https_client& c, const std::string& id, std::int64_t amount,
                       const std::string& key) {
        auto res = post(c, "/v1/payments/" + id + "/refunds",
                        json::object{{"amount", amount}, {"reason", "customer moved out"}},
                        finance_key, key);
        EXPECT_EQ(res.result(), http::status::created) << res.body();
        return json_of(res);
    }
};

const std::string stripe_key = "sk_test_billpay_fake_settlements_0123";

class StripeSettlements : public settlement_fixture {
  protected:
    void SetUp() override {
        payments_fixture::SetUp();
        cert = make_certificate(dir.path(), "stripe", "localhost", ca);
        stripe = std::make_unique<stripe_server>(cert, stripe_key,
                                                 billpay::gateway::stripe::api_version);
        config.extra_root =
            clients_yaml() +
            "gateway:\n  processor: stripe\n  timeout_ms: 1000\n  stripe:\n    api_base: " +
            stripe->api_base() + "\n    secret_key: \"" + stripe_key +
            "\"\n    ca_file: " + ca.certificate.string() + "\n" + payments_yaml();
    }
    tls_files cert;
    std::unique_ptr<stripe_server> stripe;
};

/// One row of Stripe's itemized payout reconciliation report, with every column it has.
std::string stripe_row(const std::string& txn, const std::string& created, const std::string& gross,
                       const std::string& fee, const std::string& net, const std::string& category,
                       const std::string& source, const std::string& pi, const std::string& payout,
                       const std::string& payout_at) {
    auto quote = [](const std::string& v) {
        return v.find(',') == std::string::npos ? v : "\"" + v + "\"";
    };
    return txn + "," + created + "," + created + "," + created + "," + created + ",usd," +
           quote(gross) + "," + quote(fee) + "," + quote(net) + "," + category + "," + source +
           ",\"Utility bill, account 1001-2002\"," + quote(gross) + ",usd," + payout + "," +
           payout_at + "," + payout_at + ",cus_x,ada@example.com,Ada Lovelace,," +
           (pi.empty() ? "" : "ch_" + pi.substr(3)) + "," + pi + "," + created + "," + created +
           ",,,card,visa,credit,US,CITY UTILITY,,\n";
}

const std::string stripe_header =
    "balance_transaction_id,created_utc,created,available_on_utc,available_on,currency,gross,fee,"
    "net,reporting_category,source_id,description,customer_facing_amount,"
    "customer_facing_currency,automatic_payout_id,automatic_payout_effective_at_utc,"
    "automatic_payout_effective_at,customer_id,customer_email,customer_name,customer_description,"
    "charge_id,payment_intent_id,charge_created_utc,charge_created,invoice_id,order_id,"
    "payment_method_type,card_brand,card_funding,card_country,statement_descriptor,"
    "dispute_reason,connected_account_id\n";

TEST_F(StripeSettlements, ARealisticItemizedReportReconcilesToZeroExceptions) {
    start();
    auto c = client();
    auto dime = paid(c, 10, "dime");        // $0.10: its fee is more than it
    auto large = paid(c, 123456, "large");  // $1,234.56
    auto plain = paid(c, 5000, "plain");
    auto odd = paid(c, 2599, "odd");
    auto re = refund(c, plain, 1000, "refund-plain");
    auto pi = [&](const std::string& id) {
        return text("SELECT processor_reference FROM payments WHERE id = '" + id + "'");
    };
    const std::string re_id(re.at("processor_reference").as_string());
    auto today = local_day();
    auto booked = today + " 15:04:05";
    auto paid_out = today + " 12:00:00";
    std::string report =
        stripe_header +
        stripe_row("txn_1", booked, "0.10", "0.30", "-0.20", "charge", "ch_1", pi(dime), "po_1",
                   paid_out) +
        stripe_row("txn_2", booked, "1,234.56", "36.10", "1,198.46", "charge", "ch_2", pi(large),
                   "po_1", paid_out) +
        stripe_row("txn_3", booked, "50.00", "1.75", "48.25", "charge", "ch_3", pi(plain), "po_1",
                   paid_out) +
        stripe_row("txn_4", booked, "25.99", "1.05", "24.94", "charge", "ch_4", pi(odd), "po_2",
                   paid_out) +
        stripe_row("txn_5", booked, "-10.00", "0.00", "-10.00", "refund", re_id, pi(plain), "po_2",
                   paid_out) +
        stripe_row("txn_6", booked, "-0.05", "0.00", "-0.05", "fee", "", "", "po_2", paid_out);
    auto file = dir / "payout_reconciliation.itemized.csv";
    write_file(file, "\xEF\xBB\xBF" + report);  // Excel's byte-order mark, as saved by finance

    auto imported =
        capture_command(ctl() + " settlements import --processor stripe " + file.string());
    EXPECT_THAT(imported, HasSubstr("imported 6 lines"));
    EXPECT_EQ(text("SELECT string_agg(gross::text, ',' ORDER BY line_id) FROM settlement_lines"),
              "10,123456,5000,2599,-1000,-5");
    EXPECT_EQ(text("SELECT string_agg(net::text, ',' ORDER BY line_id) FROM settlement_lines"),
              "-20,119846,4825,2494,-1000,-5");

    auto out =
        capture_command(ctl() + " reconcile --from " + today + " --to " + today + "; echo exit=$?");
    EXPECT_THAT(out, HasSubstr("5 matched, 0 exceptions"));
    EXPECT_THAT(out, HasSubstr("exit=0"));
    EXPECT_THAT(out, HasSubstr("fees    38.15 USD"));  // po_1's
    auto summary = json::parse(text("SELECT summary::text FROM reconciliation_runs"));
    // Fee totals per payout: po_1 0.30 + 36.10 + 1.75, po_2 1.05.
    std::map<std::string, std::int64_t> fees;
    for (const auto& p : summary.at("payouts").as_array()) {
        fees[std::string(p.at("payout_id").as_string())] = p.at("fees").as_int64();
    }
    EXPECT_EQ(fees["po_1"], 30 + 3610 + 175);
    EXPECT_EQ(fees["po_2"], 105);
    // Importing the same report again changes nothing.
    EXPECT_THAT(capture_command(ctl() + " settlements import --processor stripe " + file.string()),
                HasSubstr("nothing changed"));
    EXPECT_EQ(count("SELECT count(*) FROM settlement_lines"), 6);
    EXPECT_EQ(stripe->rejected_requests(), 0);
    (void)large;
}

TEST_F(StripeSettlements, AReportThatIsNotStripesIsRefusedWithItsLine) {
    start();
    auto file = dir / "wrong.csv";
    write_file(file, "id,amount\n1,2\n");
    auto out = capture_command(ctl() + " settlements import --processor stripe " + file.string() +
                               " 2>&1; echo exit=$?");
    EXPECT_THAT(out, HasSubstr(file.string() + ":1: the header has no balance_transaction_id"));
    EXPECT_THAT(out, HasSubstr("exit=1"));
    EXPECT_EQ(count("SELECT count(*) FROM settlement_imports"), 0);
}

const std::string anet_login = "5KP3u95bQpv";
const std::string anet_key = "346HZ32z3fP4hTG2";

class AuthorizeNetSettlements : public settlement_fixture {
  protected:
    void SetUp() override {
        payments_fixture::SetUp();
        cert = make_certificate(dir.path(), "authorizenet", "localhost", ca);
        fake = std::make_unique<authorizenet_server>(cert, anet_login, anet_key);
        config.extra_root = clients_yaml() +
                            "gateway:\n  processor: authorizenet\n  timeout_ms: 1000\n  "
                            "authorizenet:\n    endpoint: " +
                            fake->endpoint() + "\n    login_id: \"" + anet_login +
                            "\"\n    transaction_key: \"" + anet_key +
                            "\"\n    ca_file: " + ca.certificate.string() + "\n" + payments_yaml();
    }
    tls_files cert;
    std::unique_ptr<authorizenet_server> fake;
};

TEST_F(AuthorizeNetSettlements, BatchesPulledThroughTheAdapterReconcileWithVoidsAndRefunds) {
    start();
    auto c = client();
    auto today = local_day();
    auto kept = paid(c, 7000, "kept", "4111111111111111");
    auto voided = paid(c, 3000, "voided", "4111111111111111");
    auto partly = paid(c, 12345, "partly", "4111111111111111");
    // Before settlement a refund of the whole charge is a void.
    auto v = refund(c, voided, 3000, "void-it");
    EXPECT_EQ(v.at("kind"), "void");
    fake->settle(today + "T12:00:00Z");
    // After it, a partial refund is a refund, which settles in the next batch.
    auto r = refund(c, partly, 2345, "refund-part");
    EXPECT_EQ(r.at("kind"), "refund");
    fake->settle(today + "T13:00:00Z");

    auto imported = capture_command(ctl() + " settlements import --processor authorizenet --from " +
                                    today + " --to " + today + " 2>&1");
    EXPECT_THAT(imported, HasSubstr("imported 3 lines"));
    // The same range again: the same content, nothing changes.
    EXPECT_THAT(capture_command(ctl() + " settlements import --processor authorizenet --from " +
                                today + " --to " + today),
                HasSubstr("nothing changed"));

    auto out =
        capture_command(ctl() + " reconcile --from " + today + " --to " + today + "; echo exit=$?");
    EXPECT_THAT(out, HasSubstr("3 matched, 0 exceptions"));
    EXPECT_THAT(out, HasSubstr("exit=0"));
    EXPECT_EQ(count("SELECT count(*) FROM reconciliation_items WHERE class = 'voided'"), 1);
    EXPECT_EQ(fake->rejected_requests(), 0);
    (void)kept;
}

}  // namespace
