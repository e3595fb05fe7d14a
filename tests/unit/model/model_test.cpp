#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "model/ids.hpp"
#include "model/money.hpp"
#include "model/status.hpp"
#include "model/text.hpp"
#include "model/time.hpp"

namespace {

using namespace billpay::model;

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

namespace {

using namespace billpay::model;

currency code(const char* c) { return *currency::parse(c); }

TEST(Money, DecimalStringsAreExactInBothDirections) {
    EXPECT_EQ(to_decimal({1234, code("USD")}), "12.34");
    EXPECT_EQ(to_decimal({10, code("USD")}), "0.10");
    EXPECT_EQ(to_decimal({5, code("USD")}), "0.05");
    EXPECT_EQ(to_decimal({-10, code("USD")}), "-0.10");
    EXPECT_EQ(to_decimal({0, code("USD")}), "0.00");
    EXPECT_EQ(to_decimal({500, code("JPY")}), "500");
    EXPECT_EQ(to_decimal({1234, code("KWD")}), "1.234");
    EXPECT_EQ(to_decimal({INT64_MIN, code("USD")}), "-92233720368547758.08");

    EXPECT_EQ(parse_decimal("12.34", code("USD")), 1234);
    EXPECT_EQ(parse_decimal("0.10", code("USD")), 10);
    EXPECT_EQ(parse_decimal("0.1", code("USD")), 10);
    EXPECT_EQ(parse_decimal("-0.10", code("USD")), -10);
    EXPECT_EQ(parse_decimal("1,234.56", code("USD")), 123456);
    EXPECT_EQ(parse_decimal("1,234,567", code("USD")), 123456700);
    EXPECT_EQ(parse_decimal("7", code("USD")), 700);
    EXPECT_EQ(parse_decimal("500", code("JPY")), 500);
    // 0.1 + 0.2 in binary floating point is 0.30000000000000004; here it is 30 cents.
    EXPECT_EQ(*parse_decimal("0.1", code("USD")) + *parse_decimal("0.2", code("USD")), 30);
}

TEST(Money, MalformedDecimalsAreRefused) {
    for (const char* bad :
         {"", "-", ".5", "5.", "1.234", "12,34", "1,2,4", "1,,234", ",123", "1234,567", "1.2.3",
          "12a", "1e3", " 1", "(1.00)", "$1.00", "99999999999999999999", "92233720368547758.08"}) {
        EXPECT_EQ(parse_decimal(bad, code("USD")), std::nullopt) << bad;
    }
    EXPECT_EQ(parse_decimal("1.5", code("JPY")), std::nullopt);
}

TEST(PlainText, AcceptsWhatPeopleWriteInAnyScript) {
    for (std::string_view ok : {"Ada Lovelace", "Zoë O'Brien-Núñez", "山田 太郎", "محمد",
                                "Ünïcödé ✓ 🙂", "tab-free, comma, \"quotes\""}) {
        EXPECT_TRUE(is_plain_text(ok)) << ok;
    }
}

TEST(PlainText, RefusesWhatChangesHowTextAroundItIsShown) {
    const std::vector<std::string> refused = {
        std::string("a\0b", 3),
        "a\tb",
        "a\nb",
        "a\x7f",  // C0 controls, DEL
        "a\xc2\x85"
        "b",  // NEL, a C1 control
        "a\xc2\x9b"
        "31m",  // CSI, a C1 control
        "\xe2\x80\xae"
        "evil",  // RIGHT-TO-LEFT OVERRIDE
        "a\xe2\x81\xa6"
        "b",  // LEFT-TO-RIGHT ISOLATE
        "a\xe2\x80\x8f"
        "b",  // RIGHT-TO-LEFT MARK
        "a\xd8\x9c"
        "b",  // ARABIC LETTER MARK
        "line\xe2\x80\xa8"
        "break",  // LINE SEPARATOR
        "para\xe2\x80\xa9"
        "break",  // PARAGRAPH SEPARATOR
        "\xef\xbb\xbf"
        "bom",  // BYTE ORDER MARK
        "\xff",
        "\xc0\xaf",
        "\xed\xa0\x80",
        "\xe2\x80",  // not UTF-8
    };
    for (const auto& bad : refused) {
        EXPECT_FALSE(is_plain_text(bad)) << testing::PrintToString(bad);
    }
}

TEST(Rfc3339, ReadsBackWhatBillpaydWritesAndAuthorizeNetsUtcTimes) {
    using namespace std::chrono;
    const auto t =
        sys_days(year(2026) / 11 / 26) + hours(17) + minutes(39) + seconds(16) + milliseconds(922);
    EXPECT_EQ(parse_rfc3339_utc(rfc3339_utc(t)), t);
    EXPECT_EQ(parse_rfc3339_utc("2026-11-26T04:00:00Z"), sys_days(year(2026) / 11 / 26) + hours(4));
    EXPECT_EQ(parse_rfc3339_utc("2026-11-26T04:00:00.27Z"),
              sys_days(year(2026) / 11 / 26) + hours(4) + milliseconds(270));
    for (const char* bad : {"", "2026-11-26", "2026-11-26T04:00:00", "2026-11-26T04:00:00+01:00",
                            "2026-02-30T04:00:00Z", "2026-11-26T24:00:00Z", "2026-11-26T04:00:0xZ",
                            "2026-11-26T04:00:00.Z"}) {
        EXPECT_FALSE(parse_rfc3339_utc(bad)) << bad;
    }
}

TEST(Dates, ADueDateIsARealDayAndNothingElse) {
    using namespace std::chrono;
    EXPECT_EQ(parse_date("2026-12-07"), sys_days(year(2026) / 12 / 7));
    EXPECT_EQ(parse_date("2028-02-29"), sys_days(year(2028) / 2 / 29));  // a leap day
    EXPECT_TRUE(valid_date("2026-03-08"));  // daylight saving starts in Los Angeles
    for (const char* bad : {"", "2026-02-29", "2026-13-01", "2026-00-10", "2026-1-07", "07-12-2026",
                            "2026/12/07", "2026-12-0x", "2026-12-07T00:00:00Z", "2026-12-07 "}) {
        EXPECT_FALSE(valid_date(bad)) << bad;
    }
}

}  // namespace
