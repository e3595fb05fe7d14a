#include "tokenizer/luhn.hpp"

#include <gtest/gtest.h>

namespace {

using billpay::tokenizer::luhn_valid;

TEST(Luhn, AcceptsPublishedTestCardNumbers) {
    EXPECT_TRUE(luhn_valid("4242424242424242"));  // Visa
    EXPECT_TRUE(luhn_valid("5555555555554444"));  // Mastercard
    EXPECT_TRUE(luhn_valid("378282246310005"));   // American Express
    EXPECT_TRUE(luhn_valid("6011111111111117"));  // Discover
}

TEST(Luhn, RejectsAChangedDigit) { EXPECT_FALSE(luhn_valid("4242424242424241")); }

TEST(Luhn, RejectsEmptyAndNonDigits) {
    EXPECT_FALSE(luhn_valid(""));
    EXPECT_FALSE(luhn_valid("4242 4242 4242 4242"));
    EXPECT_FALSE(luhn_valid("42424242424242a2"));
}

}  // namespace
