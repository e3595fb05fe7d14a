#include "daemon/idempotent_post.hpp"

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <optional>

#include "logging/log.hpp"

namespace billpay::daemon {
namespace {

boost::system::result<std::string, api_error> idempotency_key(const request& req) {
    auto key = req["Idempotency-Key"];
    if (key.empty()) {
        return invalid_request("Idempotency-Key", "idempotency_key_missing",
                               "Every POST needs an Idempotency-Key header.");
    }
    bool visible = std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; });
    if (key.size() > 255 || !visible || req.count("Idempotency-Key") != 1) {
        return invalid_request("Idempotency-Key", "idempotency_key_invalid",
                               "Give one Idempotency-Key header, of 1 to 255 visible ASCII "
                               "characters.");
    }
    return std::string(key);
}

}  // namespace

std::optional<api_error> json_body_refusal(const request& req) {
    if (req.count(http::field::content_type) != 1) {
        return api_error{http::status::unsupported_media_type, error_type::invalid_request_error,
                         "unsupported_media_type",
                         "The request body must be JSON: send one Content-Type: application/json."};
    }
    std::string_view type = req[http::field::content_type];
    type = type.substr(0, type.find(';'));
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) {
        type.remove_suffix(1);
    }
    if (!boost::beast::iequals(type, "application/json")) {
        return api_error{http::status::unsupported_media_type, error_type::invalid_request_error,
                         "unsupported_media_type",
                         "The request body must be JSON: send Content-Type: application/json."};
    }
    return std::nullopt;
}

response from_stored(const model::stored_response& stored) {
    response res{static_cast<http::status>(stored.status), 11};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");
    res.body() = stored.body;
    res.prepare_payload();
    return res;
}

model::stored_response to_stored(const api_result& answer, std::string_view request_id) {
    if (answer) {
        return {static_cast<int>(answer->result_int()), answer->body()};
    }
    return {static_cast<int>(answer.error().status), render_body(answer.error(), request_id)};
}

idempotent_posts::idempotent_posts(const api_clients& clients, store::idempotency_keys& keys,
                                   std::chrono::milliseconds lease)
    : clients_(clients), keys_(keys), lease_(lease) {}

boost::asio::awaitable<api_result> idempotent_posts::serve(request_context& ctx, request& req,
                                                           const idempotent_post& post) const {
    auto client = clients_.caller(req, ctx, post.roles);
    if (!client) {
        co_return client.error();
    }
    if (auto refused = json_body_refusal(req)) {
        co_return *refused;
    }
    auto key = idempotency_key(req);
    if (!key) {
        co_return key.error();
    }
    auto fingerprint = post.fingerprint(*client);
    if (!fingerprint) {
        co_return fingerprint.error();
    }
    const store::key_claim claim{client->id, *key, "POST", post.path, *fingerprint, lease_};
    auto claimed = co_await keys_.claim(claim);
    if (!claimed) {
        co_return store_failure(claimed.error(), post.nothing_done);
    }
    switch (claimed->status) {
        case store::claim_status::replay: {
            auto res = from_stored(claimed->response);
            res.set("Idempotent-Replayed", "true");
            ctx.outcome = "replayed";
            co_return res;
        }
        case store::claim_status::in_flight:
            co_return idempotency_key_in_use();
        case store::claim_status::mismatch:
            co_return api_error{http::status::unprocessable_entity, error_type::idempotency_error,
                                "idempotency_key_reused",
                                "This Idempotency-Key was used for a different request."};
        case store::claim_status::claimed:
            break;
    }

    const model::key_lease lease = claimed->lease;
    auto outcome = co_await post.run(*client, lease);
    switch (outcome.key) {
        case key_outcome::record: {
            const auto stored = to_stored(outcome.answer, ctx.request_id);
            auto recorded = co_await keys_.record(lease, stored);
            if (!recorded) {
                // The answer stands; a retry with the key finds it in flight until its lease
                // runs out, and then runs afresh.
                logging::error("could not record a response for its idempotency key",
                               {{"request_id", ctx.request_id},
                                {"error", store::to_string(recorded.error())}});
            }
            break;
        }
        case key_outcome::release: {
            auto released = co_await keys_.release(lease);
            if (!released) {
                // Best effort: the key's lease runs out instead, and a retry takes it over then.
                logging::warn("could not give an idempotency key back",
                              {{"request_id", ctx.request_id},
                               {"error", store::to_string(released.error())}});
            }
            break;
        }
        case key_outcome::settled:
            break;
    }
    co_return std::move(outcome.answer);
}

}  // namespace billpay::daemon
