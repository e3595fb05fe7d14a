#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "payments/ids.hpp"
#include "payments/money.hpp"
#include "payments/status.hpp"

namespace {

using namespace billpay::payments;

TEST(PaymentStatus, OnlyTheDocumentedTransitionsAreAllowed) {
    using enum payment_status;
    const payment_status all[] = {pending, succeeded,          declined,
                                  failed,  partially_refunded, refunded};
    std::set<std::pair<payment_status, payment_status>> allowed = {
        {pending, succeeded},
        {pending, declined},
        {pending, failed},
        {succeeded, partially_refunded},
        {succeeded, refunded},
        {partially_refunded, partially_refunded},
        {partially_refunded, refunded}};
    for (auto from : all) {
        for (auto to : all) {
            EXPECT_EQ(can_transition(from, to), allowed.contains({from, to}))
                << to_string(from) << " -> " << to_string(to);
        }
    }
}

TEST(PaymentStatus, NamesRoundTrip) {
    for (auto name :
         {"pending", "succeeded", "declined", "failed", "partially_refunded", "refunded"}) {
        EXPECT_EQ(to_string(parse_payment_status(name).value()), name);
    }
    EXPECT_FALSE(parse_payment_status("paid"));
}

TEST(Ids, ArePrefixedUniqueAndUnguessable) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        auto id = new_id("pay");
        EXPECT_THAT(id, ::testing::MatchesRegex("pay_[a-z2-7]{26}"));
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 1000u);
}

TEST(Ids, ConfirmationCodesAreReadable) {
    EXPECT_THAT(new_confirmation_code(),
                ::testing::MatchesRegex("[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}"));
}

TEST(Currency, IsThreeUpperCaseLetters) {
    EXPECT_EQ(currency::parse("USD")->code(), "USD");
    EXPECT_FALSE(currency::parse("usd"));
    EXPECT_FALSE(currency::parse("US"));
    EXPECT_FALSE(currency::parse("USDX"));
}

}  // namespace
