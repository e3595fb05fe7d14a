#include "daemon/scheduled_payments_api.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "daemon/payment_requests.hpp"
#include "model/digest.hpp"

namespace billpay::daemon {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using payments::schedule_status;

api_error account_required() {
    return invalid_request("account_number", "parameter_missing",
                           "Name the customer's account_number.");
}

/// The answer to every scheduling call, from how it ended.
api_result answer(const payments::schedule_result& r, std::string_view what,
                  const config::settings& settings) {
    switch (r.status) {
        case schedule_status::scheduled:
            return json_response(http::status::created, scheduled_payment_json(*r.payment));
        case schedule_status::canceled:
            return json_response(http::status::ok, scheduled_payment_json(*r.payment));
        case schedule_status::listed: {
            json::array data;
            for (const auto& p : r.payments) {
                data.push_back(scheduled_payment_json(p));
            }
            return json_response(http::status::ok, json::object{{"object", "list"},
                                                                {"data", std::move(data)},
                                                                {"has_more", false},
                                                                {"url", "/v1/scheduled_payments"}});
        }
        case schedule_status::not_found:
            return not_found("No such scheduled payment for this account.");
        case schedule_status::in_progress: {
            api_error busy{http::status::conflict, error_type::invalid_request_error,
                           "schedule_in_progress",
                           "This payment's run has begun (or it is paid or failed): it can no "
                           "longer be canceled."};
            busy.details["scheduled_payment"] = scheduled_payment_json(*r.payment);
            return busy;
        }
        case schedule_status::no_such_payment_method:
            return invalid_request("payment_method", "resource_missing",
                                   "No such saved card for this account.");
        case schedule_status::payment_method_unusable:
            return invalid_request("payment_method", "payment_method_unusable",
                                   "This card was saved with another processor; save it again.");
        case schedule_status::card_expires_before_pay_on:
            return invalid_request("pay_on", "card_expires_before_pay_on",
                                   "The card expires before pay_on: schedule an earlier day, or "
                                   "save the card's new expiry first.");
        case schedule_status::key_reused:
            return api_error{http::status::unprocessable_entity, error_type::idempotency_error,
                             "idempotency_key_reused",
                             "This Idempotency-Key was used for a different request."};
        case schedule_status::pay_on_out_of_range:
            return invalid_request("pay_on", "parameter_invalid",
                                   "pay_on must be today (" + r.today + " in " +
                                       settings.payments.time_zone + ") or at most " +
                                       std::to_string(settings.payments.schedule_horizon_days) +
                                       " days later.");
        case schedule_status::refused:
            break;
    }
    return store_failure_resend(r.why, what);
}

}  // namespace

void scheduled_payments_api::add_routes(router& routes) {
    auto bind = [this](auto member) {
        return [this, member](request_context& ctx, request& req) {
            return (this->*member)(ctx, req);
        };
    };
    routes.add(http::verb::post, "/v1/scheduled_payments", bind(&scheduled_payments_api::create));
    routes.add(http::verb::get, "/v1/scheduled_payments", bind(&scheduled_payments_api::list));
    routes.add(http::verb::delete_, "/v1/scheduled_payments/{id}",
               bind(&scheduled_payments_api::cancel));
}

asio::awaitable<api_result> scheduled_payments_api::create(request_context& ctx, request& req) {
    std::optional<payments::schedule_request> schedule;
    const idempotent_post post{
        {config::client_role::portal},
        "/v1/scheduled_payments",
        "nothing was scheduled",
        [&](const api_client&) -> boost::system::result<std::string, api_error> {
            auto parsed = parse_schedule_request(req.body());
            if (!parsed) {
                return parsed.error();
            }
            if (auto refused = schedules_.check(*parsed)) {
                return invalid_request(std::move(refused->param), std::move(refused->code),
                                       std::move(refused->message));
            }
            schedule.emplace(std::move(*parsed));
            // Every field identifies the request; none is card data.
            return model::sha256_hex(json::serialize(json::object{
                {"account_number", schedule->account_number},
                {"bill_id", schedule->bill_id ? json::value(*schedule->bill_id) : json::value()},
                {"amount", schedule->amount},
                {"currency", schedule->currency},
                {"payment_method", schedule->payment_method},
                {"pay_on", schedule->pay_on},
                {"name", schedule->payer.name},
                {"email", schedule->payer.email}}));
        },
        [&](const api_client& client,
            const model::key_lease& lease) -> asio::awaitable<post_outcome> {
            schedule->client_id = client.id;
            schedule->idempotency_key = lease.key;
            auto scheduled = co_await schedules_.schedule(*schedule);
            if (scheduled.status != schedule_status::refused) {
                co_return post_outcome{answer(scheduled, "scheduled payment", settings_),
                                       key_outcome::record};
            }
            // The key is given back either way: the retry under it schedules the same id, so it
            // finds what this one may have written and never schedules a second payment. But
            // only a job that never ran is "nothing was scheduled"; a failed commit is unknown.
            if (scheduled.why == payments::failure::store_busy) {
                co_return post_outcome{store_failure(store::error::busy, "nothing was scheduled"),
                                       key_outcome::release};
            }
            co_return post_outcome{
                outcome_unknown("schedule_outcome_unknown", "scheduled payment", "scheduled"),
                key_outcome::release};
        }};
    co_return co_await posts_.serve(ctx, req, post);
}

asio::awaitable<api_result> scheduled_payments_api::list(request_context& ctx, request& req) {
    auto client = clients_.caller(req, ctx, {config::client_role::portal});
    if (!client) {
        co_return client.error();
    }
    auto account = ctx.query_value("account_number");
    if (!account) {
        co_return account_required();
    }
    if (!valid_account_number(*account)) {
        co_return invalid_request("account_number", "parameter_invalid",
                                  "The account number must be 1 to 32 letters, digits or dashes.");
    }
    co_return answer(co_await schedules_.list(*account), "read", settings_);
}

asio::awaitable<api_result> scheduled_payments_api::cancel(request_context& ctx, request& req) {
    auto client = clients_.caller(req, ctx, {config::client_role::portal});
    if (!client) {
        co_return client.error();
    }
    auto account = ctx.query_value("account_number");
    if (!account) {
        co_return account_required();
    }
    co_return answer(co_await schedules_.cancel(ctx.path_params.at("id"), *account), "cancel",
                     settings_);
}

}  // namespace billpay::daemon
