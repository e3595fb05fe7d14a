// The card-number canary: run every flow with known test card numbers, then search everything
// billpayd wrote or said (the whole database dump, its log, every response, every receipt it
// spooled) for them, with and without separators. There must be no hit. (The webhook bodies are
// the same documents; tests/e2e/receipts_test.cpp checks them as they arrive.)
#include <gmock/gmock.h>

#include "tests/e2e/payments_fixture.hpp"

namespace {

using namespace billpay::test;
using namespace std::chrono_literals;
namespace json = boost::json;

const std::vector<std::string> canaries = {
    "4242424242424242", "5555555555554444", "378282246310005", "4000000000000002",
    "4000000000000259", "6011111111111117", "4000000000000119"};

/// The number as people write it: plain, in groups of four with spaces or dashes.
std::vector<std::string> spellings(const std::string& number) {
    std::vector<std::string> out{number};
    for (char sep : {' ', '-'}) {
        std::string grouped;
        for (std::size_t i = 0; i < number.size(); ++i) {
            if (i > 0 && i % 4 == 0) {
                grouped.push_back(sep);
            }
            grouped.push_back(number[i]);
        }
        out.push_back(grouped);
    }
    return out;
}

class CardCanary : public payments_fixture {};

TEST_F(CardCanary, NoCardNumberAppearsInTheDatabaseTheLogOrAnyResponse) {
    config.log_level = "trace";
    start();
    auto c = client();
    std::string said;  // every response body
    int n = 0;
    for (const auto& number : canaries) {
        auto key = "canary-" + std::to_string(n++);
        auto body = payment_body(number, key);
        body["save_payment_method"] = true;
        said += pay(c, body, key).body();
        said += pay(c, body, key).body();  // the replay
        json::object method{{"account_number", "1001-2002"}, {"card", body.at("card")}};
        said += post(c, "/v1/payment_methods", method, portal_key, key + "-pm").body();
        // A bad request that carries the number: a wrong CVC length, a past expiry.
        auto bad = body;
        bad["card"].as_object()["cvc"] = "1";
        said += pay(c, bad, key + "-bad").body();
        bad["card"].as_object()["cvc"] = "123";
        bad["card"].as_object()["exp_year"] = 2001;
        said += pay(c, bad, key + "-bad2").body();
    }
    // Let the recovery worker finish the pending one, then read everything back.
    std::this_thread::sleep_for(2s);
    said += get(c, "/v1/payments?account_number=1001-2002&limit=100").body();
    said += get(c, "/v1/payment_methods?account_number=1001-2002").body();
    said += get(c, "/v1/payments?limit=100", finance_key).body();

    auto dump = capture_command("pg_dump --data-only --inserts -d '" + database.dsn() + "'");
    ASSERT_GT(dump.size(), 1000u);  // the dump worked and holds the payments
    ASSERT_NE(dump.find("4242"), std::string::npos);
    daemon->send_signal(SIGTERM);
    daemon->wait_exit();
    auto log = daemon->log();
    ASSERT_GT(log.size(), 1000u);
    // Every message spooled for the correspondence system (the default transport here).
    std::string spooled;
    for (const auto& f : std::filesystem::directory_iterator(dir / "spool")) {
        spooled += read_file(f.path());
    }
    ASSERT_NE(spooled.find("payment_receipt"), std::string::npos);

    for (const auto& number : canaries) {
        for (const auto& spelling : spellings(number)) {
            EXPECT_EQ(dump.find(spelling), std::string::npos) << "database holds a card number";
            EXPECT_EQ(log.find(spelling), std::string::npos) << "log holds a card number";
            EXPECT_EQ(said.find(spelling), std::string::npos) << "a response holds a card number";
            EXPECT_EQ(spooled.find(spelling), std::string::npos) << "a receipt holds a card number";
        }
    }
}

}  // namespace
