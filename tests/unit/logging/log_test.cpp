#include "logging/log.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "logging/scrubber.hpp"

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

TEST(Scrubber, LeavesNumbersThatAreNotCards) {
    // Luhn fails, too short, too long, or a timestamp.
    EXPECT_EQ(scrub_card_numbers("4242424242424241"), "4242424242424241");
    EXPECT_EQ(scrub_card_numbers("424242424242"), "424242424242");
    EXPECT_EQ(scrub_card_numbers("42424242424242424242424"), "42424242424242424242424");
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

}  // namespace
