// /metrics as Prometheus reads it: a live scrape after real traffic passes `promtool check
// metrics`, and carries the series docs/operations.md promises, with the values the traffic
// made. No series names an account, a payment id or a customer.
#include <gmock/gmock.h>

#include "tests/e2e/payments_fixture.hpp"

namespace {

using namespace billpay::test;
using ::testing::HasSubstr;
using ::testing::Not;
namespace json = boost::json;

class Metrics : public payments_fixture {};

TEST_F(Metrics, ALiveScrapePassesPromtoolAndCountsWhatHappened) {
    start();
    auto c = client();
    const auto paid_id = paid(c, 2500, "2026-11");
    auto declined = pay(c, payment_body("4000000000000002", "2026-12"), "declined");
    ASSERT_EQ(declined.result(), http::status::payment_required) << declined.body();
    ASSERT_EQ(post(c, "/v1/payments/" + paid_id + "/refunds",
                   json::object{{"amount", 500}, {"reason", "meter misread"}}, finance_key, "r1")
                  .result(),
              http::status::created);
    ASSERT_EQ(get(c, "/v1/payments/" + paid_id + "?account_number=1001-2002").result(),
              http::status::ok);
    // Receipts: two payments' and the refund's, delivered to the spool.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (count("SELECT count(*) FROM outbox_messages WHERE status = 'delivered'") < 3 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }

    EXPECT_EQ(get(c, "/metrics").result(), http::status::forbidden);  // the portal may not
    auto scrape = get(c, "/metrics", ops_key);
    ASSERT_EQ(scrape.result(), http::status::ok);
    const std::string text = scrape.body();
    const auto file = dir / "scrape.txt";
    write_file(file, text);
    auto lint =
        capture_command("promtool check metrics < " + file.string() + " 2>&1; echo exit=$?");
    EXPECT_EQ(lint, "exit=0\n") << lint;

    for (
        const char* series :
        {R"(billpay_http_request_duration_seconds_count{route="/v1/payments",method="POST",status="201"} 1)",
         R"(billpay_http_request_duration_seconds_count{route="/v1/payments",method="POST",status="402"} 1)",
         R"(billpay_http_request_duration_seconds_count{route="/v1/payments/{id}",method="GET",status="200"} 1)",
         R"(billpay_processor_call_duration_seconds_count{operation="charge",outcome="approved"} 1)",
         R"(billpay_processor_call_duration_seconds_count{operation="charge",outcome="declined"} 1)",
         R"(billpay_processor_call_duration_seconds_count{operation="refund",outcome="approved"} 1)",
         R"(billpay_payments_total{outcome="succeeded",by="request"} 1)",
         R"(billpay_payments_total{outcome="declined",by="request"} 1)",
         R"(billpay_refunds_total{outcome="succeeded"} 1)",
         R"(billpay_receipt_deliveries_total{outcome="delivered"} 3)",
         "billpay_payments_pending 0\n", "billpay_outbox_backlog 0\n",
         "billpay_store_queue_wait_seconds_count ", "billpay_store_connections_in_use ",
         "billpay_tls_certificate_expiry_timestamp_seconds ", "billpay_ready 1\n"}) {
        EXPECT_THAT(text, HasSubstr(series));
    }
    // Label values come from fixed sets: no payment id, account number or customer.
    EXPECT_THAT(text, Not(HasSubstr(paid_id)));
    EXPECT_THAT(text, Not(HasSubstr("1001-2002")));
    EXPECT_THAT(text, Not(HasSubstr("ada@example.com")));
}

}  // namespace
