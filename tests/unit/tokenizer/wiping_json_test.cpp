#include "tokenizer/wiping_json.hpp"

#include <gtest/gtest.h>

namespace {

using billpay::tokenizer::parse_wiping;

TEST(WipingJson, ParsesStrictJson) {
    boost::system::error_code ec;
    auto v = parse_wiping(R"({"a": [1, "x"], "b": {"c": true}})", ec);
    ASSERT_FALSE(ec);
    EXPECT_EQ(v.at("a").at(1), "x");
}

TEST(WipingJson, RefusesWhatIsNotStrictJson) {
    for (std::string_view bad : {"{\"a\": 1,}", "{\"a\": 1} x", "{/* c */}", "{\"a\": \"\xff\"}",
                                 "[[[[[[[[[[1]]]]]]]]]]", ""}) {
        boost::system::error_code ec;
        auto v = parse_wiping(bad, ec);
        EXPECT_TRUE(ec) << bad;
        EXPECT_TRUE(v.is_null());
    }
}

}  // namespace
