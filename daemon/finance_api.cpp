#include "daemon/finance_api.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <pqxx/pqxx>

#include "daemon/api_common.hpp"
#include "finance/reconcile.hpp"
#include "finance/reports.hpp"
#include "logging/log.hpp"
#include "payments/digest.hpp"
#include "payments/ids.hpp"
#include "store/settlements.hpp"

namespace billpay::daemon {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using config::client_role;

json::value or_null(const std::optional<std::string>& v) {
    return v ? json::value(*v) : json::value(nullptr);
}

json::object refund_json(const store::refund_record& r) {
    return json::object{{"id", r.id},
                        {"object", "refund"},
                        {"payment", r.payment_id},
                        {"amount", r.amount.minor_units},
                        {"currency", r.amount.unit.code()},
                        {"status", r.status},
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
std::variant<refund_body, field_error> parse_refund_body(std::string_view text) {
    boost::system::error_code ec;
    auto doc = json::parse(text, ec);
    if (ec || !doc.is_object()) {
        return field_error{"", "parameter_invalid", "The body must be a JSON object."};
    }
    refund_body out;
    for (const auto& entry : doc.as_object()) {
        if (entry.key() != "amount" && entry.key() != "reason") {
            return field_error{std::string(entry.key()).substr(0, 64), "parameter_unknown",
                               "The field is not part of a refund request."};
        }
    }
    if (auto* amount = doc.as_object().if_contains("amount"); amount && !amount->is_null()) {
        if (!amount->is_int64() || amount->as_int64() <= 0) {
            return field_error{"amount", "parameter_invalid",
                               "The amount must be a positive whole number of minor units."};
        }
        out.amount = amount->as_int64();
    }
    auto* reason = doc.as_object().if_contains("reason");
    if (!reason || reason->is_null()) {
        return field_error{"reason", "parameter_missing", "Say why the payment is refunded."};
    }
    if (!reason->is_string() || reason->as_string().empty() || reason->as_string().size() > 500) {
        return field_error{"reason", "parameter_invalid",
                           "The reason must be a string of 1 to 500 characters."};
    }
    for (unsigned char c : reason->as_string()) {
        if (c < 0x20 || c == 0x7f) {
            return field_error{"reason", "parameter_invalid",
                               "The reason must not contain control characters."};
        }
    }
    out.reason = std::string(reason->as_string());
    return out;
}

/// YYYY-MM-DD, a real day.
bool valid_date(const std::string& text) {
    return text.size() == 10 && finance::days_between(text, text).has_value();
}

}  // namespace

finance_api::finance_api(const config::settings& settings, const api_clients& clients,
                         store::database& database, finance::refunds& refunds)
    : settings_(settings), clients_(clients), database_(database), refunds_(refunds) {}

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

asio::awaitable<response> finance_api::create_refund(request_context& ctx, request& req) {
    auto who = caller(clients_, req, ctx, {client_role::finance});
    if (auto* refusal = std::get_if<response>(&who)) {
        co_return std::move(*refusal);
    }
    const api_client client = std::get<api_client>(who);
    auto key_or = idempotency_key(req, ctx);
    if (auto* refusal = std::get_if<response>(&key_or)) {
        co_return std::move(*refusal);
    }
    const std::string key = std::get<std::string>(key_or);
    auto parsed = parse_refund_body(req.body());
    if (auto* e = std::get_if<field_error>(&parsed)) {
        co_return bad_request(ctx, *e);
    }
    const auto body = std::get<refund_body>(parsed);
    const std::string payment_id = ctx.path_params.at("id");

    json::object canonical{{"payment", payment_id},
                           {"amount", body.amount ? json::value(*body.amount) : nullptr},
                           {"reason", body.reason}};
    store::key_claim claim{client.id,
                           key,
                           "POST",
                           "/v1/payments/" + payment_id + "/refunds",
                           payments::sha256_hex(json::serialize(canonical)),
                           std::nullopt,
                           std::nullopt,
                           false,
                           0,
                           std::max<std::int64_t>(60'000, 2 * settings_.gateway.timeout.count())};
    store::claim_result claimed;
    try {
        claimed = co_await database_.run(
            [&claim](pqxx::connection& conn) { return store::claim_key(conn, claim); });
    } catch (const store::unavailable&) {
        co_return unavailable(ctx, "nothing was refunded");
    }
    if (claimed.status != store::claim_status::claimed) {
        co_return claim_refusal(claimed, ctx);
    }

    const finance::refund_order order{payment_id, body.amount, body.reason,
                                      payments::new_id("ref")};
    const finance::actor actor{client.id, source_of(ctx)};
    auto answer = co_await refunds_.create(order, actor);
    response res;
    bool nothing_happened = false;
    switch (answer.status) {
        case finance::refund_status::succeeded:
            res = json_response(http::status::created, refund_json(*answer.refund));
            break;
        case finance::refund_status::pending:
            // The processor's answer was lost: it is asked again; GET the refunds to follow it.
            res = json_response(http::status::accepted, refund_json(*answer.refund));
            break;
        case finance::refund_status::declined: {
            res = error_response(http::status::conflict, error_type::invalid_request_error,
                                 "refund_declined",
                                 "The processor refused the refund: " + answer.decline_code +
                                     ". Nothing was refunded.",
                                 ctx.request_id);
            auto doc = json::parse(res.body()).as_object();
            doc["error"].as_object()["decline_code"] = answer.decline_code;
            doc["error"].as_object()["refund"] = refund_json(*answer.refund);
            res = json_response(http::status::conflict, doc);
            break;
        }
        case finance::refund_status::processor_unavailable:
            nothing_happened = true;
            res = card_refused(http::status::bad_gateway, error_type::api_error,
                               "processor_unavailable", "",
                               "The payment processor could not be reached; nothing was "
                               "refunded. Try again with the same Idempotency-Key.",
                               ctx);
            break;
        case finance::refund_status::no_payment:
            res = error_response(http::status::not_found, error_type::invalid_request_error,
                                 "resource_missing", "No such payment.", ctx.request_id, "id");
            break;
        case finance::refund_status::not_refundable:
            res = error_response(http::status::bad_request, error_type::invalid_request_error,
                                 "payment_not_refundable",
                                 "Only a succeeded payment with something left to refund can be "
                                 "refunded.",
                                 ctx.request_id, "id");
            break;
        case finance::refund_status::too_much:
            res = error_response(http::status::bad_request, error_type::invalid_request_error,
                                 "amount_too_large",
                                 "The refund is more than what remains of the payment (" +
                                     std::to_string(answer.remaining) +
                                     " minor units, counting refunds in progress).",
                                 ctx.request_id, "amount");
            break;
        case finance::refund_status::database_unavailable:
            nothing_happened = true;
            res = unavailable(ctx, "nothing was refunded");
            break;
    }
    if (nothing_happened) {
        co_await release_key(database_, client.id, key);
    } else {
        co_await record_response(database_, client.id, key, res, ctx);
    }
    co_return res;
}

asio::awaitable<response> finance_api::list_refunds(request_context& ctx, request& req) {
    auto who = caller(clients_, req, ctx, {client_role::finance});
    if (auto* refusal = std::get_if<response>(&who)) {
        co_return std::move(*refusal);
    }
    const api_client client = std::get<api_client>(who);
    const std::string payment_id = ctx.path_params.at("id");
    std::optional<store::payment_record> payment;
    std::vector<store::refund_record> list;
    try {
        std::tie(payment, list) = co_await database_.run([&payment_id](pqxx::connection& conn) {
            return std::pair{store::find_payment(conn, payment_id),
                             store::list_refunds(conn, payment_id)};
        });
    } catch (const store::unavailable&) {
        co_return unavailable(ctx, "nothing was shown");
    }
    if (!payment) {
        co_return error_response(http::status::not_found, error_type::invalid_request_error,
                                 "resource_missing", "No such payment.", ctx.request_id, "id");
    }
    const store::audit_entry read{client.id, source_of(ctx), "refunds.listed", payment_id, "",
                                  "{}"};
    if (!co_await audit(database_, read)) {
        co_return unavailable(ctx, "nothing was shown");
    }
    json::array data;
    for (const auto& r : list) {
        data.push_back(refund_json(r));
    }
    co_return json_response(http::status::ok,
                            json::object{{"object", "list"},
                                         {"data", data},
                                         {"has_more", false},
                                         {"url", "/v1/payments/" + payment_id + "/refunds"}});
}

asio::awaitable<response> finance_api::daily_report(request_context& ctx, request& req) {
    auto who = caller(clients_, req, ctx, {client_role::finance});
    if (auto* refusal = std::get_if<response>(&who)) {
        co_return std::move(*refusal);
    }
    const api_client client = std::get<api_client>(who);
    auto from = ctx.query_value("from");
    auto to = ctx.query_value("to");
    for (auto [name, value] : {std::pair{"from", &from}, std::pair{"to", &to}}) {
        if (!*value) {
            co_return bad_request(ctx, {name, "parameter_missing", "Give from and to as dates."});
        }
        if (!valid_date(**value)) {
            co_return bad_request(ctx, {name, "parameter_invalid", "Use a date: 2026-11-26."});
        }
    }
    auto span = finance::days_between(*from, *to).value_or(-1);
    if (span < 0 || span > 366) {
        co_return bad_request(ctx, {"to", "parameter_invalid",
                                    "to must be on or after from, at most 366 days later."});
    }
    finance::daily_report report{*from, *to, settings_.payments.time_zone, {}, {}};
    try {
        std::tie(report.days, report.exceptions) =
            co_await database_.run([&](pqxx::connection& conn) {
                return std::pair{store::daily_totals(conn, *from, *to, report.time_zone),
                                 store::latest_exceptions(conn, *from, *to)};
            });
    } catch (const store::unavailable&) {
        co_return unavailable(ctx, "nothing was shown");
    }
    const store::audit_entry viewed{client.id,
                                    source_of(ctx),
                                    "report.viewed",
                                    "daily",
                                    "",
                                    json::serialize(json::object{{"from", *from}, {"to", *to}})};
    if (!co_await audit(database_, viewed)) {
        co_return unavailable(ctx, "nothing was shown");
    }
    co_return json_response(http::status::ok, finance::report_json(report));
}

asio::awaitable<response> finance_api::get_reconciliation(request_context& ctx, request& req) {
    auto who = caller(clients_, req, ctx, {client_role::finance});
    if (auto* refusal = std::get_if<response>(&who)) {
        co_return std::move(*refusal);
    }
    const api_client client = std::get<api_client>(who);
    const std::string id = ctx.path_params.at("id");
    std::optional<store::reconciliation_run> run;
    try {
        run = co_await database_.run(
            [&id](pqxx::connection& conn) { return store::find_reconciliation(conn, id); });
    } catch (const store::unavailable&) {
        co_return unavailable(ctx, "nothing was shown");
    }
    if (!run) {
        co_return error_response(http::status::not_found, error_type::invalid_request_error,
                                 "resource_missing", "No such reconciliation.", ctx.request_id,
                                 "id");
    }
    const store::audit_entry viewed{client.id, source_of(ctx), "reconciliation.viewed", id, "",
                                    "{}"};
    if (!co_await audit(database_, viewed)) {
        co_return unavailable(ctx, "nothing was shown");
    }
    co_return json_response(http::status::ok, finance::reconciliation_json(*run));
}

}  // namespace billpay::daemon
