#include "tokenizer/wiping_json.hpp"

#include <gtest/gtest.h>

#include <boost/json/memory_resource.hpp>
#include <new>
#include <string>

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

/// The heap, with a look at every block as it comes back: how many came back, and how many
/// still held the marker (what a block holds when it is given back is what the next owner of
/// that memory could read).
class watching_heap final : public boost::json::memory_resource {
  public:
    explicit watching_heap(std::string marker) : marker_(std::move(marker)) {}
    int returned = 0;
    int still_holding_marker = 0;
    bool saw_any_nonzero = false;

  private:
    void* do_allocate(std::size_t bytes, std::size_t) override { return ::operator new(bytes); }
    void do_deallocate(void* p, std::size_t bytes, std::size_t) override {
        ++returned;
        std::string_view block(static_cast<const char*>(p), bytes);
        if (block.find(marker_) != std::string_view::npos) {
            ++still_holding_marker;
        }
        saw_any_nonzero = saw_any_nonzero || block.find_first_not_of('\0') != block.npos;
        ::operator delete(p);
    }
    bool do_is_equal(const boost::json::memory_resource& other) const noexcept override {
        return this == &other;
    }
    std::string marker_;
};

TEST(WipingJson, EveryBlockGoesBackZeroedWhenTheValueGoes) {
    // Long enough that the string lives in a block of its own, not inline in the value.
    const std::string number = "4111111111111111";
    const std::string body = R"({"card": {"number": ")" + number +
                             R"(", "cvc": "737"},)"
                             R"( "customer": {"name": "Ada Lovelace, account 1001-2002-3003"}})";
    watching_heap heap("41111111");
    {
        boost::system::error_code ec;
        auto v = parse_wiping(body, ec, {}, &heap);
        ASSERT_FALSE(ec);
        EXPECT_EQ(v.at("card").at("number").as_string(), number);
    }
    EXPECT_GT(heap.returned, 0);  // the value's blocks did come back through the resource
    EXPECT_EQ(heap.still_holding_marker, 0);
    EXPECT_FALSE(heap.saw_any_nonzero);  // nothing of the request, not only the number
}

TEST(WipingJson, ARefusedBodyLeavesNothingBehindEither) {
    // Past the parser's 1 KiB of work space, so its stack and strings come from the resource;
    // the text stops before the object closes.
    const std::string body = R"({"note": ")" + std::string(3000, 'x') +
                             R"(", "card": {"number": "4111111111111111", "cvc": "737"},)";
    watching_heap heap("41111111");
    boost::system::error_code ec;
    auto v = parse_wiping(body, ec, {}, &heap);
    EXPECT_TRUE(ec);
    EXPECT_GT(heap.returned, 0);
    EXPECT_EQ(heap.still_holding_marker, 0);
    EXPECT_FALSE(heap.saw_any_nonzero);
}

}  // namespace
