#include "daemon/router.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>

namespace {

using namespace billpay::daemon;
namespace asio = boost::asio;

class RouterTest : public ::testing::Test {
  protected:
    void SetUp() override {
        routes.add(http::verb::get, "/v1/payments/{id}",
                   [](request_context& ctx, request&) -> asio::awaitable<api_result> {
                       co_return json_response(
                           http::status::ok,
                           {{"id", ctx.path_params.at("id")},
                            {"account", ctx.query.find("account_number")->second}});
                   });
        routes.add(http::verb::post, "/v1/payments/{id}",
                   [](request_context&, request&) -> asio::awaitable<api_result> {
                       co_return json_response(http::status::created, {{"ok", true}});
                   });
        routes.add(http::verb::get, "/healthz",
                   [](request_context&, request&) -> asio::awaitable<api_result> {
                       co_return json_response(http::status::ok, {{"status", "ok"}});
                   });
    }

    response call(http::verb method, const std::string& target) {
        asio::io_context ioc;
        request req{method, target, 11};
        request_context ctx;
        ctx.request_id = "req_test";
        auto future = asio::co_spawn(ioc, routes.dispatch(ctx, req), asio::use_future);
        ioc.run();
        return future.get();
    }

    router routes;
};

TEST_F(RouterTest, CapturesPathParametersAndDecodesTheQuery) {
    auto res = call(http::verb::get, "/v1/payments/pay_123?account_number=A%2010");
    EXPECT_EQ(res.result(), http::status::ok);
    auto body = boost::json::parse(res.body());
    EXPECT_EQ(body.at("id"), "pay_123");
    EXPECT_EQ(body.at("account"), "A 10");
}

TEST_F(RouterTest, AnUnknownPathIs404InTheErrorShape) {
    auto res = call(http::verb::get, "/v1/nothing");
    EXPECT_EQ(res.result(), http::status::not_found);
    auto error = boost::json::parse(res.body()).at("error");
    EXPECT_EQ(error.at("type"), "invalid_request_error");
    EXPECT_EQ(error.at("code"), "resource_missing");
    EXPECT_EQ(error.at("request_id"), "req_test");
}

TEST_F(RouterTest, AKnownPathWithAnotherMethodIs405WithAllow) {
    auto res = call(http::verb::delete_, "/v1/payments/pay_1");
    EXPECT_EQ(res.result(), http::status::method_not_allowed);
    EXPECT_EQ(res[http::field::allow], "GET, POST");
    EXPECT_EQ(boost::json::parse(res.body()).at("error").at("code"), "method_not_allowed");
}

TEST_F(RouterTest, SegmentsMustMatchExactly) {
    EXPECT_EQ(call(http::verb::get, "/v1/payments").result(), http::status::not_found);
    EXPECT_EQ(call(http::verb::get, "/v1/payments/a/b").result(), http::status::not_found);
    EXPECT_EQ(call(http::verb::get, "/healthz/").result(), http::status::not_found);
    EXPECT_EQ(call(http::verb::get, "/healthz").result(), http::status::ok);
}

TEST_F(RouterTest, AnInvalidTargetIs400) {
    EXPECT_EQ(call(http::verb::get, "http://example.com/healthz").result(),
              http::status::bad_request);
}

}  // namespace
