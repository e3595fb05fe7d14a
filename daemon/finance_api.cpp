#include "daemon/finance_api.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "finance/reconcile.hpp"
#include "finance/reports.hpp"
#include "model/digest.hpp"
#include "model/ids.hpp"
#include "model/text.hpp"
#include "model/time.hpp"
#include "tokenizer/card_number_search.hpp"

namespace billpay::daemon {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using config::client_role;

json::value or_null(const std::optional<std::string>& v) {
    return v ? json::value(*v) : json::value(nullptr);
}

json::object refund_json(const model::refund_record& r) {
    return json::object{{"id", r.id},
                        {"object", "refund"},
                        {"payment", r.payment_id},
                        {"amount", r.amount.minor_units},
                        {"currency", r.amount.unit.code()},
                        {"status", model::to_string(r.status)},
                        {"kind", or_null(r.kind)},
                        {"reason", r.reason},
                        {"requested_by", r.requested_by},
                        {"processor_reference", or_null(r.processor_reference)},
                        {"failure_code", or_null(r.failure_code)},
                        {"requires_review", r.needs_review},
                        {"created_at", r.created_at},
                        {"updated_at", r.updated_at}};
}

/// {"amount"?: positive integer, "reason": 1-500 characters}, strictly.
struct refund_body {
    std::optional<std::int64_t> amount;
    std::string reason;
};
boost::system::result<refund_body, api_error> parse_refund_body(std::string_view text) {
    boost::system::error_code ec;
    auto doc = json::parse(text, ec);
    if (ec || !doc.is_object()) {
        return invalid_request("", "parameter_invalid", "The body must be a JSON object.");
    }
    refund_body out;
    for (const auto& entry : doc.as_object()) {
        if (entry.key() != "amount" && entry.key() != "reason") {
            return invalid_request(std::string(entry.key()).substr(0, 64), "parameter_unknown",
                                   "The field is not part of a refund request.");
        }
    }
    if (auto* amount = doc.as_object().if_contains("amount"); amount && !amount->is_null()) {
        if (!amount->is_int64() || amount->as_int64() <= 0) {
            return invalid_request("amount", "parameter_invalid",
                                   "The amount must be a positive whole number of minor units.");
        }
        out.amount = amount->as_int64();
    }
    auto* reason = doc.as_object().if_contains("reason");
    if (!reason || reason->is_null()) {
        return invalid_request("reason", "parameter_missing", "Say why the payment is refunded.");
    }
    if (!reason->is_string() || reason->as_string().empty() || reason->as_string().size() > 500) {
        return invalid_request("reason", "parameter_invalid",
                               "The reason must be a string of 1 to 500 characters.");
    }
    if (!model::is_plain_text(reason->as_string())) {
        return invalid_request("reason", "parameter_invalid",
                               "The reason must not contain control, direction-changing or "
                               "line-separating characters.");
    }
    if (tokenizer::contains_card_number(reason->as_string())) {
        return invalid_request("reason", "card_number_in_text",
                               "The field reason looks like it holds a card number. Card numbers "
                               "belong in card.number only.");
    }
    out.reason = std::string(reason->as_string());
    return out;
}

}  // namespace

std::optional<model::stored_response> refund_answers::render(const model::refund_record& refund,
                                                             const std::string& request_id) const {
    if (refund.status == model::refund_status::succeeded) {
        return to_stored(json_response(http::status::created, refund_json(refund)), request_id);
    }
    if (refund.status != model::refund_status::failed ||
        refund.failure_code == "processor_unavailable") {
        return std::nullopt;
    }
    const std::string code = refund.failure_code.value_or("");
    api_error refusal{http::status::conflict, error_type::invalid_request_error, "refund_declined",
                      "The processor refused the refund: " + code + ". Nothing was refunded."};
    refusal.decline_code = code;
    refusal.details["refund"] = refund_json(refund);
    return to_stored(refusal, request_id);
}

finance_api::finance_api(const config::settings& settings, const api_clients& clients,
                         const idempotent_posts& posts, finance::refunds& refunds,
                         const refund_answers& answers, finance::staff_reads& reads)
    : settings_(settings),
      clients_(clients),
      posts_(posts),
      refunds_(refunds),
      answers_(answers),
      reads_(reads) {}

void finance_api::add_routes(router& routes) {
    auto bind = [this](auto member) {
        return [this, member](request_context& ctx, request& req) {
            return (this->*member)(ctx, req);
        };
    };
    routes.add(http::verb::post, "/v1/payments/{id}/refunds", bind(&finance_api::create_refund));
    routes.add(http::verb::get, "/v1/payments/{id}/refunds", bind(&finance_api::list_refunds));
    routes.add(http::verb::get, "/v1/reports/daily", bind(&finance_api::daily_report));
    routes.add(http::verb::get, "/v1/reconciliations/{id}", bind(&finance_api::get_reconciliation));
}

asio::awaitable<api_result> finance_api::create_refund(request_context& ctx, request& req) {
    const std::string payment_id = ctx.path_params.at("id");
    std::optional<refund_body> body;
    const idempotent_post post{
        {client_role::finance},
        "/v1/payments/" + payment_id + "/refunds",
        "nothing was refunded",
        [&](const api_client&) -> boost::system::result<std::string, api_error> {
            auto parsed = parse_refund_body(req.body());
            if (!parsed) {
                return parsed.error();
            }
            body = *parsed;
            json::object canonical{{"payment", payment_id},
                                   {"amount", body->amount ? json::value(*body->amount) : nullptr},
                                   {"reason", body->reason}};
            return model::sha256_hex(json::serialize(canonical));
        },
        [&](const api_client& client,
            const model::key_lease& lease) -> asio::awaitable<post_outcome> {
            const finance::refund_order order{payment_id,           body->amount, body->reason,
                                              model::new_id("ref"), lease,        ctx.request_id};
            const model::actor actor{client.id, source_of(ctx)};
            auto answer = co_await refunds_.create(order, actor);
            switch (answer.status) {
                case finance::refund_status::succeeded:
                case finance::refund_status::declined:
                    // Finished: its answer was written to the key with the outcome.
                    if (auto stored = answers_.render(*answer.refund, ctx.request_id)) {
                        co_return post_outcome{from_stored(*stored), key_outcome::settled};
                    }
                    break;
                case finance::refund_status::pending:
                    // The processor's answer was lost: it is asked again; GET the refunds to
                    // follow it.
                    co_return post_outcome{
                        json_response(http::status::accepted, refund_json(*answer.refund)),
                        key_outcome::record};
                case finance::refund_status::processor_unavailable:
                    co_return post_outcome{
                        processor_unavailable("The payment processor could not be reached; "
                                              "nothing was refunded. Try again with the same "
                                              "Idempotency-Key."),
                        key_outcome::release};
                case finance::refund_status::no_payment:
                    // Nothing was done, for nothing: the key stays free, as for any request
                    // refused before it began.
                    co_return post_outcome{not_found("No such payment."), key_outcome::release};
                case finance::refund_status::not_refundable:
                    co_return post_outcome{
                        invalid_request("id", "payment_not_refundable",
                                        "Only a succeeded payment with something left to refund "
                                        "can be refunded."),
                        key_outcome::record};
                case finance::refund_status::too_much:
                    co_return post_outcome{
                        invalid_request("amount", "amount_too_large",
                                        "The refund is more than what remains of the payment (" +
                                            std::to_string(answer.remaining) +
                                            " minor units, counting refunds in progress)."),
                        key_outcome::record};
                case finance::refund_status::not_held:
                    // The store gave the key back in the statement that learned nothing was held.
                    co_return post_outcome{
                        store_failure(store::error::unavailable, "nothing was refunded"),
                        key_outcome::settled};
                case finance::refund_status::key_lost:
                    co_return post_outcome{idempotency_key_in_use(), key_outcome::settled};
                case finance::refund_status::outcome_unknown:
                    co_return post_outcome{
                        outcome_unknown("refund_outcome_unknown", "refund", "paid out"),
                        key_outcome::settled};
                case finance::refund_status::database_unavailable:
                    break;
            }
            co_return post_outcome{store_failure(store::error::unavailable, "nothing was refunded"),
                                   key_outcome::release};
        }};
    co_return co_await posts_.serve(ctx, req, post);
}

asio::awaitable<api_result> finance_api::list_refunds(request_context& ctx, request& req) {
    auto client = clients_.caller(req, ctx, {client_role::finance});
    if (!client) {
        co_return client.error();
    }
    const std::string payment_id = ctx.path_params.at("id");
    auto listed = co_await reads_.refunds(reader_of(*client, ctx, std::nullopt), payment_id);
    if (!listed) {
        co_return store_failure(listed.error(), "nothing was shown");
    }
    if (!listed->first) {
        co_return not_found("No such payment.");
    }
    json::array data;
    for (const auto& r : listed->second) {
        data.push_back(refund_json(r));
    }
    co_return json_response(http::status::ok,
                            json::object{{"object", "list"},
                                         {"data", data},
                                         {"has_more", false},
                                         {"url", "/v1/payments/" + payment_id + "/refunds"}});
}

asio::awaitable<api_result> finance_api::daily_report(request_context& ctx, request& req) {
    auto client = clients_.caller(req, ctx, {client_role::finance});
    if (!client) {
        co_return client.error();
    }
    auto from = ctx.query_value("from");
    auto to = ctx.query_value("to");
    for (auto [name, value] : {std::pair{"from", &from}, std::pair{"to", &to}}) {
        if (!*value) {
            co_return invalid_request(name, "parameter_missing", "Give from and to as dates.");
        }
        if (!model::valid_date(**value)) {
            co_return invalid_request(name, "parameter_invalid", "Use a date: 2026-11-26.");
        }
    }
    auto span = finance::days_between(*from, *to).value_or(-1);
    if (span < 0 || span > 366) {
        co_return invalid_request("to", "parameter_invalid",
                                  "to must be on or after from, at most 366 days later.");
    }
    auto report = co_await reads_.daily(reader_of(*client, ctx, std::nullopt), *from, *to,
                                        settings_.payments.time_zone);
    if (!report) {
        co_return store_failure(report.error(), "nothing was shown");
    }
    co_return json_response(http::status::ok, finance::report_json(*report));
}

asio::awaitable<api_result> finance_api::get_reconciliation(request_context& ctx, request& req) {
    auto client = clients_.caller(req, ctx, {client_role::finance});
    if (!client) {
        co_return client.error();
    }
    const std::string id = ctx.path_params.at("id");
    auto run = co_await reads_.reconciliation(reader_of(*client, ctx, std::nullopt), id);
    if (!run) {
        co_return store_failure(run.error(), "nothing was shown");
    }
    if (!*run) {
        co_return not_found("No such reconciliation.");
    }
    co_return json_response(http::status::ok, finance::reconciliation_json(**run));
}

}  // namespace billpay::daemon
