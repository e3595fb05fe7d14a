#include "daemon/autopay_api.hpp"

#include "daemon/idempotent_post.hpp"
#include "daemon/payment_requests.hpp"

namespace billpay::daemon {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using payments::autopay_status;

constexpr const char* autopay_path = "/v1/accounts/{account_number}/autopay";

/// The answer to every AutoPay call, from how it ended.
api_result answer(const payments::autopay_result& r, const std::string& account_number,
                  std::string_view what) {
    switch (r.status) {
        case autopay_status::enrolled:
            return json_response(http::status::ok, autopay_json(*r.enrollment));
        case autopay_status::ended:
            return json_response(http::status::ok, json::object{{"object", "autopay"},
                                                                {"account_number", account_number},
                                                                {"deleted", true}});
        case autopay_status::not_enrolled:
            return not_found("This account has no AutoPay.");
        case autopay_status::no_such_payment_method:
            return invalid_request("payment_method", "resource_missing",
                                   "No such saved card for this account.");
        case autopay_status::payment_method_unusable:
            return invalid_request("payment_method", "payment_method_unusable",
                                   "This card was saved with another processor; save it again.");
        case autopay_status::refused:
            break;
    }
    return store_failure_resend(r.why, what);
}

}  // namespace

void autopay_api::add_routes(router& routes) {
    auto bind = [this](auto member) {
        return [this, member](request_context& ctx, request& req) {
            return (this->*member)(ctx, req);
        };
    };
    routes.add(http::verb::put, autopay_path, bind(&autopay_api::enroll));
    routes.add(http::verb::get, autopay_path, bind(&autopay_api::show));
    routes.add(http::verb::delete_, autopay_path, bind(&autopay_api::end));
}

asio::awaitable<api_result> autopay_api::enroll(request_context& ctx, request& req) {
    auto client = clients_.caller(req, ctx, {config::client_role::portal});
    if (!client) {
        co_return client.error();
    }
    const std::string account_number = ctx.path_params.at("account_number");
    if (auto refusal = account_number_refusal(account_number)) {
        co_return *refusal;
    }
    if (auto refusal = json_body_refusal(req)) {
        co_return *refusal;
    }
    auto request = parse_autopay_request(req.body());
    if (!request) {
        co_return request.error();
    }
    request->account_number = account_number;
    request->client_id = client->id;
    co_return answer(co_await autopay_.enroll(*request), account_number, "AutoPay change");
}

asio::awaitable<api_result> autopay_api::show(request_context& ctx, request& req) {
    auto account = portal_account(ctx, req);
    if (!account) {
        co_return account.error();
    }
    co_return answer(co_await autopay_.show(*account), *account, "read");
}

asio::awaitable<api_result> autopay_api::end(request_context& ctx, request& req) {
    auto account = portal_account(ctx, req);
    if (!account) {
        co_return account.error();
    }
    co_return answer(co_await autopay_.end(*account), *account, "AutoPay change");
}

boost::system::result<std::string, api_error> autopay_api::portal_account(
    const request_context& ctx, const request& req) const {
    auto client = clients_.caller(req, ctx, {config::client_role::portal});
    if (!client) {
        return client.error();
    }
    std::string account_number = ctx.path_params.at("account_number");
    if (auto refusal = account_number_refusal(account_number)) {
        return *refusal;
    }
    return account_number;
}

}  // namespace billpay::daemon
