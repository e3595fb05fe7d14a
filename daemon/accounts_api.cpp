#include "daemon/accounts_api.hpp"

#include <chrono>

#include "daemon/idempotent_post.hpp"
#include "daemon/payment_requests.hpp"
#include "model/time.hpp"
#include "privacy/customer_export.hpp"

namespace billpay::daemon {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using config::client_role;

}  // namespace

void accounts_api::add_routes(router& routes) {
    auto bind = [this](auto member) {
        return [this, member](request_context& ctx, request& req) {
            return (this->*member)(ctx, req);
        };
    };
    routes.add(http::verb::patch, "/v1/accounts/{account_number}",
               bind(&accounts_api::correct_email));
    routes.add(http::verb::get, "/v1/accounts/{account_number}/export",
               bind(&accounts_api::export_account));
}

asio::awaitable<api_result> accounts_api::correct_email(request_context& ctx, request& req) {
    auto client = clients_.caller(req, ctx, {client_role::portal});
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
    auto update = parse_account_update(req.body());
    if (!update) {
        co_return update.error();
    }
    // The address is not in the audit trail: the trail is never purged, the address may be.
    const store::audit_entry audit{
        client->id, source_of(ctx), "account.email_corrected", account_number, "", "{}"};
    auto saved = co_await records_.correct_email(account_number, update->email, client->id, audit);
    if (!saved) {
        co_return store_failure(saved.error(), "nothing was changed");
    }
    co_return json_response(http::status::ok,
                            json::object{{"object", "account"},
                                         {"account_number", account_number},
                                         {"email", saved->email},
                                         {"email_updated_at", saved->updated_at}});
}

asio::awaitable<api_result> accounts_api::export_account(request_context& ctx, request& req) {
    auto client = clients_.caller(req, ctx, {client_role::finance, client_role::portal});
    if (!client) {
        co_return client.error();
    }
    const std::string account_number = ctx.path_params.at("account_number");
    if (auto refusal = account_number_refusal(account_number)) {
        co_return *refusal;
    }
    const store::audit_entry audit{
        client->id, source_of(ctx),        "customer.exported", account_number,
        "",         R"({"format":"json"})"};
    auto data = co_await records_.export_account(account_number, audit);
    if (!data) {
        if (data.error() == store::error::not_found) {
            co_return not_found("billpayd holds nothing about this account.", "account_number");
        }
        co_return store_failure(data.error(), "nothing was shown");
    }
    co_return json_response(
        http::status::ok,
        privacy::export_json(*data, model::rfc3339_utc(std::chrono::system_clock::now())));
}

}  // namespace billpay::daemon
