#include "daemon/api_common.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "logging/log.hpp"

namespace billpay::daemon {

namespace json = boost::json;
using config::client_role;

response from_stored(const store::stored_response& stored) {
    response res{static_cast<http::status>(stored.status), 11};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");
    res.body() = stored.body;
    res.prepare_payload();
    return res;
}

store::stored_response to_stored(const response& res) {
    return {static_cast<int>(res.result_int()), res.body()};
}

response bad_request(const request_context& ctx, const field_error& e) {
    return error_response(http::status::bad_request, error_type::invalid_request_error, e.code,
                          e.message, ctx.request_id, e.param);
}

response unavailable(const request_context& ctx, std::string_view nothing_done) {
    return error_response(http::status::service_unavailable, error_type::api_error,
                          "database_unavailable",
                          "billpayd cannot reach its database; " + std::string(nothing_done) +
                              ". Try again with the same Idempotency-Key.",
                          ctx.request_id);
}

std::variant<api_client, response> caller(const api_clients& clients, const request& req,
                                          const request_context& ctx,
                                          std::initializer_list<client_role> roles) {
    auto auth = clients.authenticate(req, ctx);
    if (auth.refusal) {
        return std::move(*auth.refusal);
    }
    if (auto refusal = api_clients::require_role(*auth.client, roles, ctx)) {
        return std::move(*refusal);
    }
    return *auth.client;
}

std::variant<std::string, response> idempotency_key(const request& req,
                                                    const request_context& ctx) {
    auto key = req["Idempotency-Key"];
    if (key.empty()) {
        return error_response(
            http::status::bad_request, error_type::invalid_request_error, "idempotency_key_missing",
            "Every POST needs an Idempotency-Key header.", ctx.request_id, "Idempotency-Key");
    }
    bool visible = std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; });
    if (key.size() > 255 || !visible) {
        return error_response(http::status::bad_request, error_type::invalid_request_error,
                              "idempotency_key_invalid",
                              "The Idempotency-Key must be 1 to 255 visible ASCII characters.",
                              ctx.request_id, "Idempotency-Key");
    }
    return std::string(key);
}

response claim_refusal(const store::claim_result& claim, const request_context& ctx) {
    switch (claim.status) {
        case store::claim_status::replay: {
            auto res = from_stored(claim.response);
            res.set("Idempotent-Replayed", "true");
            return res;
        }
        case store::claim_status::in_flight:
            return error_response(http::status::conflict, error_type::idempotency_error,
                                  "idempotency_key_in_use",
                                  "A request with this Idempotency-Key is still being processed. "
                                  "Try again shortly.",
                                  ctx.request_id);
        case store::claim_status::mismatch:
            return error_response(http::status::unprocessable_entity, error_type::idempotency_error,
                                  "idempotency_key_reused",
                                  "This Idempotency-Key was used for a different request.",
                                  ctx.request_id);
        case store::claim_status::possible_duplicate: {
            auto res = error_response(
                http::status::conflict, error_type::invalid_request_error,
                "possible_duplicate_payment",
                "This bill was paid (or a payment of it is in progress) recently. To pay it "
                "again, send the request with \"confirm_duplicate\": true.",
                ctx.request_id, "bill_id");
            if (claim.existing_payment) {
                auto body = json::parse(res.body()).as_object();
                body["error"].as_object()["payment"] = *claim.existing_payment;
                res.body() = json::serialize(body);
                res.prepare_payload();
            }
            return res;
        }
        case store::claim_status::claimed:
            break;
    }
    return error_response(http::status::internal_server_error, error_type::api_error,
                          "internal_error", "Something went wrong on our side.", ctx.request_id);
}

response card_refused(http::status status, error_type type, std::string_view code,
                      std::string_view decline_code, std::string_view message,
                      const request_context& ctx) {
    json::object error{{"type", type == error_type::card_error ? "card_error" : "api_error"},
                       {"code", code},
                       {"message", message},
                       {"request_id", ctx.request_id}};
    if (!decline_code.empty()) {
        error["decline_code"] = decline_code;
    }
    return json_response(status, json::object{{"error", std::move(error)}});
}

bool valid_time(std::string_view text) {
    if (text.size() < 10 || text.size() > 35) {
        return false;
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        bool ok = (c >= '0' && c <= '9') || c == '-' || c == ':' || c == 'T' || c == 'Z' ||
                  c == '.' || c == '+';
        if (!ok) {
            return false;
        }
    }
    return text[4] == '-' && text[7] == '-';
}

boost::asio::awaitable<void> release_key(store::database& database, const std::string& client_id,
                                         const std::string& key) {
    try {
        co_await database.run([&](pqxx::connection& conn) {
            store::release_key(conn, client_id, key);
            return true;
        });
    } catch (const std::exception&) {
        // The key's lease runs out instead, and a retry may take it over then.
    }
}

boost::asio::awaitable<void> record_response(store::database& database,
                                             const std::string& client_id, const std::string& key,
                                             const response& res, const request_context& ctx) {
    auto stored = to_stored(res);
    try {
        co_await database.run([&](pqxx::connection& conn) {
            store::finish_key(conn, client_id, key, stored);
            return true;
        });
    } catch (const std::exception& e) {
        logging::error("could not record a response",
                       {{"request_id", ctx.request_id}, {"error", e.what()}});
    }
}

std::string source_of(const request_context& ctx) { return ctx.remote.address().to_string(); }

boost::asio::awaitable<bool> audit(store::database& database, const store::audit_entry& entry) {
    try {
        co_await database.run([&entry](pqxx::connection& conn) {
            store::append_audit(conn, entry);
            return true;
        });
        co_return true;
    } catch (const std::exception& e) {
        logging::error("could not write the audit trail",
                       {{"action", entry.action}, {"error", e.what()}});
        co_return false;
    }
}

}  // namespace billpay::daemon
