#include "tokenizer/card_checks.hpp"

#include <gtest/gtest.h>

#include "tokenizer/card_data.hpp"

namespace {

using namespace billpay::tokenizer;

class CardChecks : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { ASSERT_TRUE(init_secure_memory(1 << 16)); }

    static card_data card(std::string_view number, int month = 12, int year = 2031,
                          std::string_view cvc = "123") {
        card_data c;
        c.set_number(number);
        c.set_expiry(month, year);
        c.set_cvc(cvc);
        return c;
    }
    static constexpr year_month november_2026{2026, 11};
};

TEST_F(CardChecks, BrandsComeFromTheNumbersPrefix) {
    EXPECT_EQ(brand_of("4242424242424242"), card_brand::visa);
    EXPECT_EQ(brand_of("5555555555554444"), card_brand::mastercard);
    EXPECT_EQ(brand_of("2223003122003222"), card_brand::mastercard);  // 2-series
    EXPECT_EQ(brand_of("2720990000000007"), card_brand::mastercard);
    EXPECT_EQ(brand_of("378282246310005"), card_brand::amex);
    EXPECT_EQ(brand_of("6011111111111117"), card_brand::discover);
    EXPECT_EQ(brand_of("3566002020360505"), card_brand::jcb);
    EXPECT_EQ(brand_of("36227206271667"), card_brand::diners);
    EXPECT_EQ(brand_of("6200000000000005"), card_brand::unionpay);
    EXPECT_EQ(brand_of("2721000000000000"), std::nullopt);  // just past Mastercard's range
    EXPECT_EQ(brand_of("9999999999999995"), std::nullopt);
}

TEST_F(CardChecks, AWellFormedCardPasses) {
    EXPECT_FALSE(check_card(card("4242424242424242"), november_2026));
    EXPECT_FALSE(check_card(card("378282246310005", 12, 2031, "1234"), november_2026));
}

TEST_F(CardChecks, TheNumberMustBeDigitsOfTheRightLengthPassingLuhn) {
    EXPECT_EQ(check_card(card("4242424242424241"), november_2026)->param, "card.number");
    EXPECT_EQ(check_card(card("424242424242"), november_2026)->code, "invalid_number");
    EXPECT_EQ(check_card(card("42424242424242a2"), november_2026)->param, "card.number");
    // Luhn-valid, but Amex numbers have 15 digits, not 16.
    EXPECT_EQ(check_card(card("3782822463100005"), november_2026)->param, "card.number");
}

TEST_F(CardChecks, ACardIsGoodThroughTheLastDayOfItsExpiryMonth) {
    EXPECT_FALSE(check_card(card("4242424242424242", 11, 2026), november_2026));
    auto last_month = check_card(card("4242424242424242", 10, 2026), november_2026);
    ASSERT_TRUE(last_month);
    EXPECT_EQ(last_month->code, "expired_card");
    EXPECT_EQ(last_month->param, "card.exp_month");
    EXPECT_EQ(check_card(card("4242424242424242", 12, 2025), november_2026)->param,
              "card.exp_year");
    EXPECT_EQ(check_card(card("4242424242424242", 0, 2030), november_2026)->param,
              "card.exp_month");
    EXPECT_EQ(check_card(card("4242424242424242", 12, 31), november_2026)->param, "card.exp_year");
}

TEST_F(CardChecks, TheCvcHasTheBrandsLength) {
    EXPECT_EQ(check_card(card("4242424242424242", 12, 2031, "1234"), november_2026)->param,
              "card.cvc");
    EXPECT_EQ(check_card(card("378282246310005", 12, 2031, "123"), november_2026)->param,
              "card.cvc");
    EXPECT_EQ(check_card(card("4242424242424242", 12, 2031, "12a"), november_2026)->code,
              "invalid_cvc");
}

TEST_F(CardChecks, NoProblemMessageQuotesTheCard) {
    for (auto problem : {check_card(card("4242424242424241"), november_2026),
                         check_card(card("4242424242424242", 1, 2020), november_2026),
                         check_card(card("4242424242424242", 12, 2031, "99"), november_2026)}) {
        ASSERT_TRUE(problem);
        EXPECT_EQ(std::string(problem->message).find("4242"), std::string::npos);
    }
}

TEST_F(CardChecks, FingerprintsAreKeyedAndIgnoreTheExpiry) {
    fingerprinter a(std::string(32, 'a'));
    fingerprinter b(std::string(32, 'b'));
    auto c1 = card("4242424242424242", 12, 2031);
    auto c2 = card("4242424242424242", 1, 2032);
    EXPECT_EQ(a.of_number(c1), a.of_number(c2));  // the same card, renewed
    EXPECT_NE(a.of_number(c1), b.of_number(c1));  // another key, another fingerprint
    EXPECT_NE(a.of_number(c1), a.of_number(card("5555555555554444")));
    EXPECT_EQ(a.of_number(c1).size(), 64u);
    EXPECT_NE(a.of_request_fields(c1), a.of_request_fields(c2));  // but the request differs
    auto described = a.describe(c1);
    EXPECT_EQ(described.brand, card_brand::visa);
    EXPECT_EQ(described.last4, "4242");
    EXPECT_EQ(described.exp_month, 12);
    EXPECT_EQ(described.exp_year, 2031);
}

TEST_F(CardChecks, TheRequestFingerprintDoesNotDependOnTheCvc) {
    // PCI DSS 3.3.1.2: it is kept after authorisation, so the CVC is no part of it.
    fingerprinter a(std::string(32, 'a'));
    const auto with_123 = a.of_request_fields(card("4242424242424242", 12, 2031, "123"));
    for (const char* cvc : {"000", "456", "999", "1234"}) {
        EXPECT_EQ(a.of_request_fields(card("4242424242424242", 12, 2031, cvc)), with_123) << cvc;
    }
    EXPECT_NE(a.of_request_fields(card("5555555555554444", 12, 2031, "123")), with_123);
}

TEST_F(CardChecks, AnExpiryMonthOutOfRangeIsNeverTruncatedIntoAValidOne) {
    // 268 is 12 in one byte; 65548 is 12 in two.
    EXPECT_EQ(check_card(card("4242424242424242", 268), november_2026)->code,
              "invalid_expiry_month");
    EXPECT_EQ(check_card(card("4242424242424242", 12, 65548 + 2031 - 12), november_2026)->code,
              "invalid_expiry_year");
    EXPECT_EQ(check_card(card("4242424242424242", 0), november_2026)->code, "invalid_expiry_month");
}

TEST_F(CardChecks, CardDataRefusesOversizeFields) {
    auto c = card("4242424242424242");
    EXPECT_FALSE(c.set_number("42424242424242424242"));  // 20 digits: nothing stored
    EXPECT_EQ(c.number(), "4242424242424242");
    EXPECT_FALSE(c.set_cvc("12345"));
    EXPECT_EQ(c.cvc(), "123");
}

TEST_F(CardChecks, WipeZeroesTheLockedBytesThemselves) {
    auto c = card("4242424242424242");
    // The bytes where the number and CVC live (locked memory that stays allocated after wipe):
    // not only must the views read empty, the digits must be gone from that memory.
    const char* number_bytes = c.number().data();
    const char* cvc_bytes = c.cvc().data();
    ASSERT_EQ(std::string_view(number_bytes, 16), "4242424242424242");
    c.wipe();
    EXPECT_EQ(std::string_view(number_bytes, 16), std::string(16, '\0'));
    EXPECT_EQ(std::string_view(cvc_bytes, 3), std::string(3, '\0'));
    EXPECT_TRUE(c.number().empty());
    EXPECT_TRUE(c.cvc().empty());
    EXPECT_EQ(c.exp_month(), 0);
}

TEST_F(CardChecks, AMovedCardLeavesNoSecondOwnerOfItsBytes) {
    auto c = card("4242424242424242");
    card_data moved(std::move(c));
    EXPECT_EQ(moved.number(), "4242424242424242");  // the card went with the move...
    EXPECT_TRUE(c.number().empty());  // NOLINT(bugprone-use-after-move): ...and left nothing here
    card_data assigned = card("5555555555554444");
    assigned = std::move(moved);
    EXPECT_EQ(assigned.number(), "4242424242424242");
    EXPECT_TRUE(moved.number().empty());  // NOLINT(bugprone-use-after-move)
}

}  // namespace
