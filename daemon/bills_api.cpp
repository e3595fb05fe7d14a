#include "daemon/bills_api.hpp"

#include "daemon/idempotent_post.hpp"
#include "daemon/payment_requests.hpp"

namespace billpay::daemon {

namespace asio = boost::asio;

void bills_api::add_routes(router& routes) {
    routes.add(http::verb::post, "/v1/bills",
               [this](request_context& ctx, request& req) { return create_bill(ctx, req); });
}

asio::awaitable<api_result> bills_api::create_bill(request_context& ctx, request& req) {
    auto client = clients_.caller(req, ctx, {config::client_role::billing});
    if (!client) {
        co_return client.error();
    }
    if (auto refusal = json_body_refusal(req)) {
        co_return *refusal;
    }
    auto bill = parse_bill_request(req.body());
    if (!bill) {
        co_return bill.error();
    }
    if (auto refused = bills_.check(*bill)) {
        co_return invalid_request(std::move(refused->param), std::move(refused->code),
                                  std::move(refused->message));
    }
    bill->client_id = client->id;
    auto received = co_await bills_.receive(*bill);
    switch (received.status) {
        case payments::bill_status::recorded:
            co_return json_response(http::status::created, bill_json(*received.bill));
        case payments::bill_status::unchanged:
            co_return json_response(http::status::ok, bill_json(*received.bill));
        case payments::bill_status::conflict: {
            api_error conflict{http::status::conflict, error_type::invalid_request_error,
                               "bill_conflict",
                               "Another bill has this account_number and bill_id; a bill never "
                               "changes. Send a reissued bill under a new bill_id.",
                               "bill_id"};
            conflict.details["bill"] = bill_json(*received.bill);
            co_return conflict;
        }
        case payments::bill_status::refused:
            break;
    }
    co_return store_failure_resend(received.why, "bill");
}

}  // namespace billpay::daemon
