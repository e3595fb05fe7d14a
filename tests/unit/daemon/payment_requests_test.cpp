// The payment request parser: identifiers with a grammar of their own (bill ids, account
// numbers, saved-card ids) are identifiers, not free text. A utility's bill numbers are often
// long digit strings, and about one in ten 16-digit ones passes the Luhn check: scanned as free
// text, one customer in ten could not pay that bill. Free text (names, metadata values) is still
// refused when it holds a card number.
#include "daemon/payment_requests.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <iostream>
#include <random>

#include "tokenizer/card_checks.hpp"
#include "tokenizer/card_data.hpp"
#include "tokenizer/card_number_search.hpp"
#include "tokenizer/luhn.hpp"

namespace {

using namespace billpay;
namespace json = boost::json;

class PaymentRequests : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { ASSERT_TRUE(tokenizer::init_secure_memory(1 << 16)); }

    static json::object body(const std::string& account, const std::string& bill) {
        return json::object{{"account_number", account},
                            {"bill_id", bill},
                            {"amount", 12500},
                            {"currency", "USD"},
                            {"card",
                             {{"number", "4242424242424242"},
                              {"exp_month", 12},
                              {"exp_year", 2031},
                              {"cvc", "123"}}},
                            {"customer", {{"name", "Ada Lovelace"}, {"email", "ada@example.com"}}}};
    }

    /// A random 16-digit number; `luhn` makes its last digit the check digit.
    std::string digits16(bool luhn) {
        std::uniform_int_distribution<int> digit(0, 9);
        std::string out;
        out.push_back(static_cast<char>('1' + digit(random) % 9));
        while (out.size() < 16) {
            out.push_back(static_cast<char>('0' + digit(random)));
        }
        if (luhn) {
            for (char last = '0'; last <= '9'; ++last) {
                out.back() = last;
                if (tokenizer::luhn_valid(out)) {
                    break;
                }
            }
        }
        return out;
    }

    std::mt19937_64 random{20261207};
};

TEST_F(PaymentRequests, TenThousandRandomSixteenDigitBillIdsAndAccountNumbersAreAllAccepted) {
    int luhn_valid = 0;
    int look_like_cards = 0;  // what a card-number search of free text refuses
    for (int i = 0; i < 10'000; ++i) {
        // Every other one Luhn-valid on purpose: those are the ones a card-number scan refused.
        const std::string bill = digits16(i % 2 == 0);
        const std::string account = digits16(i % 2 == 1);
        luhn_valid += tokenizer::luhn_valid(bill) ? 1 : 0;
        look_like_cards += tokenizer::contains_card_number(bill) ? 1 : 0;
        look_like_cards += tokenizer::contains_card_number(account) ? 1 : 0;
        auto parsed = daemon::parse_payment_request(json::serialize(body(account, bill)));
        ASSERT_TRUE(parsed) << "bill id " << bill << " / account " << account << ": "
                            << parsed.error().code;
        EXPECT_EQ(parsed->bill_id, bill);  // kept as it is
        EXPECT_EQ(parsed->account_number, account);
    }
    EXPECT_GE(luhn_valid, 5'000);
    std::cout << look_like_cards << " of the 20,000 identifiers look like card numbers\n";
    EXPECT_GT(look_like_cards, 5'000);  // each of those was refused before
}

TEST_F(PaymentRequests, BillIdsAndAccountNumbersThatLookLikeCardNumbersAreIdentifiers) {
    // The issue's own examples: each was refused with 400 card_number_in_text.
    for (const auto& [account, bill] : std::vector<std::pair<std::string, std::string>>{
             {"1001-2002", "4111111111111111"},
             {"4111111111111111", "2026-11"},
             {"4111-1111-1111-1111", "4111-1111-1111-1111"},
             {"1001-2002", "4111.1111.1111.1111"},
             {"1001-2002", "B4111111111111111/2026"},
         }) {
        auto parsed = daemon::parse_payment_request(json::serialize(body(account, bill)));
        ASSERT_TRUE(parsed) << account << " " << bill << ": " << parsed.error().code;
        EXPECT_EQ(parsed->bill_id, bill);
        EXPECT_EQ(parsed->account_number, account);
    }
    json::object method{
        {"account_number", "4111111111111111"},
        {"card",
         {{"number", "4242424242424242"}, {"exp_month", 12}, {"exp_year", 2031}, {"cvc", "123"}}}};
    EXPECT_TRUE(daemon::parse_payment_method_request(json::serialize(method)));
}

TEST_F(PaymentRequests, FreeTextThatHoldsACardNumberIsStillRefused) {
    auto with_name = body("1001-2002", "4111111111111111");
    with_name["customer"].as_object()["name"] = "Ada 4000 0566 5566 5556";
    auto refused = daemon::parse_payment_request(json::serialize(with_name));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, "card_number_in_text");
    EXPECT_EQ(refused.error().param, "customer.name");

    auto with_metadata = body("1001-2002", "2026-11");
    with_metadata["metadata"] = json::object{{"invoice_number", "card 5555-5555-5555-4444"}};
    refused = daemon::parse_payment_request(json::serialize(with_metadata));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, "card_number_in_text");

    auto cardholder = body("1001-2002", "2026-11");
    cardholder["card"].as_object()["name"] = "4242424242424242";
    refused = daemon::parse_payment_request(json::serialize(cardholder));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, "card_number_in_text");
    EXPECT_EQ(refused.error().param, "card.name");

    // An identifier outside its grammar is refused for its grammar, and never echoed.
    auto spaced = body("1001-2002", "4111 1111 1111 1111");
    refused = daemon::parse_payment_request(json::serialize(spaced));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().param, "bill_id");
    EXPECT_EQ(refused.error().code, "parameter_invalid");
    EXPECT_EQ(refused.error().message.find("4111"), std::string::npos);
}

}  // namespace
