#include "logging/log.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/parse.hpp>

#include "logging/scrubber.hpp"
#include "tokenizer/card_number_search.hpp"

namespace {

using billpay::logging::format_line;
using billpay::logging::scrub_card_numbers;

TEST(Scrubber, MasksACardNumberButTheLastFour) {
    EXPECT_EQ(scrub_card_numbers("card 4242424242424242 declined"),
              "card ************4242 declined");
}

TEST(Scrubber, MasksNumbersWrittenWithSpacesOrDashes) {
    EXPECT_EQ(scrub_card_numbers("4242 4242 4242 4242"), "**** **** **** 4242");
    EXPECT_EQ(scrub_card_numbers("3782-822463-10005"), "****-******-*0005");
}

TEST(Scrubber, MasksEveryLengthFrom13To19) {
    EXPECT_EQ(scrub_card_numbers("4222222222222"), "*********2222");              // 13, Visa
    EXPECT_EQ(scrub_card_numbers("6200000000000005"), "************0005");        // 16, UnionPay
    EXPECT_EQ(scrub_card_numbers("6205500000000000004"), "***************0004");  // 19
}

/// True when nothing of `number` but its last four digits can be read back from `scrubbed`:
/// with every separator taken out, its first twelve digits are nowhere.
bool hides(const std::string& scrubbed, const std::string& number) {
    std::string kept;
    for (char c : scrubbed) {
        if ((c >= '0' && c <= '9') || c == '*') {
            kept.push_back(c);
        }
    }
    return kept.find(number.substr(0, 12)) == std::string::npos &&
           kept.find("********") != std::string::npos;
}

TEST(Scrubber, MasksTheShapesCardNumbersReallyTakeInText) {
    const std::string visa = "4242424242424242";
    for (const std::string text : {
             "4242424242424242 123",             // the CVC typed after it: a 19-digit run
             "42424242424242421230",             // and the expiry as MMYY: 20 digits
             "4242424242424242 12/30 123",       // number, expiry, CVC
             "4242.4242.4242.4242",              // dots
             "4242/4242/4242/4242",              // slashes
             "4242_4242_4242_4242",              // underscores
             R"(4242\t4242\t4242\t4242)",        // a tab, JSON-escaped
             R"(4242\n4242\n4242\n4242)",        // a line break, JSON-escaped
             R"(4242\r\n4242\r\n4242\r\n4242)",  // two escapes between groups
             "4242\t4242\t4242\t4242",           // a tab as it is
             "4242  4242  4242  4242",           // double spaces
             "x=4242424242424242&y=1",           // inside a query string
         }) {
        EXPECT_TRUE(hides(scrub_card_numbers(text), visa)) << text;
    }
    EXPECT_TRUE(hides(scrub_card_numbers("4242\n4242\n4242\n4242"), visa)) << "line breaks";
}

TEST(Scrubber, TriesEveryWindowOfALongRun) {
    // A card number inside a longer run of digits (an order number typed into a note).
    const std::string amex = "378282246310005";
    EXPECT_TRUE(hides(scrub_card_numbers("99" + amex + "7"), amex));
    EXPECT_TRUE(hides(scrub_card_numbers("ref 1234" + amex), amex));
}

TEST(Scrubber, LeavesNumbersThatAreNotCards) {
    // Too short, a timestamp, an amount, a phone number. (A 13-19 digit run is masked when any
    // window of it passes Luhn, so most long runs are: masking too much is the cheap mistake.)
    EXPECT_EQ(scrub_card_numbers("424242424242"), "424242424242");
    EXPECT_EQ(scrub_card_numbers("call +1 312 555 0199"), "call +1 312 555 0199");
    EXPECT_EQ(scrub_card_numbers("2026-11-26T16:26:43.000Z"), "2026-11-26T16:26:43.000Z");
    EXPECT_EQ(scrub_card_numbers("amount 12500 USD"), "amount 12500 USD");
}

TEST(Scrubber, FindsACardInsideJson) {
    EXPECT_EQ(scrub_card_numbers(R"({"number":"5555555555554444"})"),
              R"({"number":"************4444"})");
}

TEST(LogLine, IsOneJsonObjectWithTimeLevelMessageAndFields) {
    auto line = format_line(std::chrono::system_clock::time_point{}, spdlog::level::warn,
                            "database unreachable",
                            {{"request_id", "req_abc"}, {"attempt", 3}, {"ok", false}});
    auto json = boost::json::parse(line).as_object();
    EXPECT_EQ(json.at("time"), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(json.at("level"), "warn");
    EXPECT_EQ(json.at("message"), "database unreachable");
    EXPECT_EQ(json.at("request_id"), "req_abc");
    EXPECT_EQ(json.at("attempt"), 3);
    EXPECT_EQ(json.at("ok"), false);
    EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(LogLine, AFieldCannotOverwriteTheLinesOwnMessage) {
    auto line =
        format_line(std::chrono::system_clock::time_point{}, spdlog::level::info,
                    "refund sent to the processor", {{"message", "no answer"}, {"level", "x"}});
    auto json = boost::json::parse(line).as_object();
    EXPECT_EQ(json.at("message"), "refund sent to the processor");
    EXPECT_EQ(json.at("level"), "info");
    EXPECT_EQ(json.at("field_message"), "no answer");
    EXPECT_EQ(json.at("field_level"), "x");
}

TEST(LogLine, ScrubsACardNumberPassedByMistake) {
    auto line = format_line(std::chrono::system_clock::now(), spdlog::level::info,
                            "oops 4000000000000002", {{"field", "6011111111111117"}});
    EXPECT_EQ(line.find("4000000000000002"), std::string::npos);
    EXPECT_EQ(line.find("6011111111111117"), std::string::npos);
    EXPECT_NE(line.find("************0002"), std::string::npos);
}

TEST(CardNumberSearch, FindsNumbersPeopleTypeIntoFreeText) {
    using billpay::tokenizer::contains_card_number;
    EXPECT_TRUE(contains_card_number("my card is 4242 4242 4242 4242 exp 12/30"));
    EXPECT_TRUE(contains_card_number("5555.5555.5555.4444"));
    EXPECT_TRUE(contains_card_number("amex 3782-822463-10005 cvc 1234"));
    EXPECT_TRUE(contains_card_number("4000000000000002123"));  // number + CVC, no space
    // Not cards: too short, an account number, a phone number, a long id that starts as no
    // card brand does (7, 8, 9, 0, 1).
    EXPECT_FALSE(contains_card_number("Ada Lovelace"));
    EXPECT_FALSE(contains_card_number("1001-2002"));
    EXPECT_FALSE(contains_card_number("+1 (312) 555-0199"));
    EXPECT_FALSE(contains_card_number("order 7992739871300000"));
}

}  // namespace

namespace {

TEST(JournalEntry, CarriesEachFieldAsAJournalFieldAndTheJsonLineAsItsMessage) {
    using billpay::logging::field;
    const auto at = std::chrono::system_clock::from_time_t(1'795'714'756);
    auto entry = billpay::logging::journal_fields(
        at, spdlog::level::warn, "charge",
        {field("payment_id", "pay_abc"), field("request_id", "req_1"), field("status", 402),
         field("error", "card 4242424242424242 refused"), field("bad-key", "x"),
         field("_SYSTEMD_UNIT", "forged"), field("message", "forged")});
    ASSERT_GE(entry.size(), 3u);
    EXPECT_EQ(entry[0].rfind("MESSAGE={", 0), 0u);  // the same JSON line as on stderr
    EXPECT_EQ(entry[1], "PRIORITY=4");
    EXPECT_EQ(entry[2], "SYSLOG_IDENTIFIER=billpayd");
    const std::vector<std::string> fields(entry.begin() + 3, entry.end());
    // Names journald refuses, or that would forge its own, stay in the JSON line only.
    EXPECT_EQ(fields,
              (std::vector<std::string>{"PAYMENT_ID=pay_abc", "REQUEST_ID=req_1", "STATUS=402",
                                        "ERROR=card ************4242 refused"}));
}

TEST(JournalEntry, OnlyAStderrThatIsTheJournalsStreamCounts) {
    struct stat st {};
    ASSERT_EQ(::fstat(STDERR_FILENO, &st), 0);
    const auto mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    EXPECT_TRUE(billpay::logging::stderr_is_journal(mine.c_str()));
    const auto other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
    EXPECT_FALSE(billpay::logging::stderr_is_journal(other.c_str()));
    EXPECT_FALSE(billpay::logging::stderr_is_journal(nullptr));
    EXPECT_FALSE(billpay::logging::stderr_is_journal("not a stream"));
}

}  // namespace
