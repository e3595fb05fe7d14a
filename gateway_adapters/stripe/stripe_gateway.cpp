#include "gateway_adapters/stripe/stripe_gateway.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <cctype>
#include <cstdio>
#include <stdexcept>

#include "gateway_adapters/stripe/stripe_errors.hpp"
#include "logging/log.hpp"
#include "model/ids.hpp"
#include "model/time.hpp"

namespace billpay::gateway::stripe {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

/// A field of a JSON object answer, or "".
std::string field(std::string_view body, const char* key) {
    boost::system::error_code ec;
    auto doc = boost::json::parse(body, ec);
    if (ec || !doc.is_object()) {
        return {};
    }
    auto it = doc.as_object().find(key);
    return it != doc.as_object().end() && it->value().is_string()
               ? std::string(it->value().as_string())
               : std::string();
}

/// What a Stripe exchange that did not complete means: nothing sent is a failure (safe to try
/// again); a lost answer is unknown.
outcome incomplete(const https::result& r) {
    return r.stage == https::send_stage::not_sent ? outcome::failed : outcome::unknown;
}

}  // namespace

saved_token split_token(std::string_view token) {
    const auto slash = token.find('/');
    if (slash == std::string_view::npos) {
        return {std::string(), std::string(token)};
    }
    return {std::string(token.substr(0, slash)), std::string(token.substr(slash + 1))};
}

std::string join_token(const std::string& customer, const std::string& payment_method) {
    return customer.empty() ? payment_method : customer + "/" + payment_method;
}

void stripe_gateway::authorize(https::client::request& req) const {
    // The secret key goes from its wiped storage into the request's wiping header fields,
    // through a buffer that is wiped too: no plain std::string ever holds it.
    std::basic_string<char, std::char_traits<char>, memory::wiping_allocator<char>> bearer;
    const auto key = settings_.secret_key.reveal();
    bearer.reserve(7 + key.size());
    bearer.append("Bearer ").append(key);
    req.set(http::field::authorization, std::string_view(bearer.data(), bearer.size()));
}

void append_form(https::client::request::body_type::value_type& body, std::string_view key,
                 std::string_view value) {
    static constexpr char hex[] = "0123456789ABCDEF";
    auto encode = [&body](std::string_view text) {
        for (unsigned char c : text) {
            bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
            if (plain) {
                body.push_back(static_cast<char>(c));
            } else {
                body.push_back('%');
                body.push_back(hex[c >> 4]);
                body.push_back(hex[c & 0xf]);
            }
        }
    };
    if (!body.empty()) {
        body.push_back('&');
    }
    encode(key);
    body.push_back('=');
    encode(value);
}

stripe_gateway::stripe_gateway(const config::stripe_settings& settings,
                               asio::any_io_executor executor)
    : settings_(settings),
      base_([&] {
          auto parsed = https::endpoint::parse(settings.api_base);
          if (!parsed) {
              throw std::invalid_argument("gateway.stripe.api_base is not an https URL");
          }
          return *parsed;
      }()),
      client_(std::move(executor),
              https::client::options{settings.ca_file, 64, settings.keep_alive}) {}

asio::awaitable<https::result> stripe_gateway::post(const std::string& path,
                                                    https::client::request& req,
                                                    const std::string& idempotency_key,
                                                    deadline by) {
    auto cap = std::chrono::steady_clock::now() + settings_.timeout;
    https::endpoint to = base_;
    to.target = path;
    req.method(http::verb::post);
    req.target(path);
    authorize(req);
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
    req.set("Stripe-Version", api_version);
    // Every POST carries a key (a fresh one where billpayd has none of its own), so that Stripe
    // does it once however often it arrives: sent again after a dead kept-alive connection, or
    // replayed after a lost answer.
    req.set("Idempotency-Key", idempotency_key.empty() ? model::new_id("idem") : idempotency_key);
    co_return co_await client_.send(to, req, std::min(by, cap), https::resend::if_unanswered);
}

asio::awaitable<https::result> stripe_gateway::get(const std::string& target, deadline by) {
    https::client::request req{http::verb::get, "", 11};
    https::endpoint to = base_;
    to.target = target;
    req.target(target);
    authorize(req);
    req.set("Stripe-Version", api_version);
    co_return co_await client_.send(
        to, req, std::min(by, std::chrono::steady_clock::now() + settings_.timeout),
        https::resend::if_unanswered);  // a read
}

asio::awaitable<std::string> stripe_gateway::customer_for(const std::string& customer_reference,
                                                          deadline by) {
    // 1. The account's Customer, made earlier: found by the pseudonym in its metadata.
    const std::string target =
        "/v1/customers/search?query=" +
        boost::urls::encode("metadata['billpay_customer']:'" + customer_reference + "'",
                            boost::urls::unreserved_chars);
    auto found = co_await get(target, by);
    if (found.stage == https::send_stage::completed && found.status == 200) {
        boost::system::error_code ec;
        auto doc = boost::json::parse(found.body, ec);
        if (!ec && doc.is_object() && doc.as_object().contains("data") &&
            doc.at("data").is_array()) {
            for (const auto& customer : doc.at("data").as_array()) {
                if (customer.is_object() && customer.as_object().contains("id") &&
                    customer.at("id").is_string()) {
                    co_return std::string(customer.at("id").as_string());
                }
            }
        }
    }
    // 2. None yet, or search could not say (it lags by up to a minute): made now, under a key
    // of the account's own, so that two cards saved within a day make one Customer. Nothing
    // personal goes with it: the pseudonym only.
    https::client::request req;
    append_form(req.body(), "metadata[billpay_customer]", customer_reference);
    const std::string path = "/v1/customers";
    const std::string key = "billpay-customer-" + customer_reference;
    auto made = co_await post(path, req, key, by);
    if (made.stage == https::send_stage::completed && made.status == 200) {
        auto id = field(made.body, "id");
        if (id.starts_with("cus_")) {
            co_return id;
        }
    }
    logging::warn("stripe customer not found or made",
                  {{"http_status", made.status}, {"error", made.error.message()}});
    co_return std::string();
}

asio::awaitable<std::optional<std::string>> stripe_gateway::customer_reference_of(
    const std::string& customer, deadline by) {
    const bool well_formed = customer.starts_with("cus_") && customer.size() < 256 &&
                             std::all_of(customer.begin(), customer.end(), [](char c) {
                                 return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                             });
    if (!well_formed) {
        co_return std::string();  // nobody's: not one billpayd made
    }
    auto answer = co_await get("/v1/customers/" + customer, by);
    if (answer.stage != https::send_stage::completed || answer.status != 200) {
        co_return std::nullopt;
    }
    boost::system::error_code ec;
    auto doc = boost::json::parse(answer.body, ec);
    const auto* metadata =
        !ec && doc.is_object() ? doc.as_object().if_contains("metadata") : nullptr;
    const auto* reference = metadata && metadata->is_object()
                                ? metadata->as_object().if_contains("billpay_customer")
                                : nullptr;
    if (reference == nullptr || !reference->is_string()) {
        co_return std::string();  // a Customer billpayd did not make: no account's
    }
    co_return std::string(reference->as_string());
}

asio::awaitable<outcome> stripe_gateway::attach(const std::string& payment_method,
                                                const std::string& customer, deadline by) {
    https::client::request req;
    append_form(req.body(), "customer", customer);
    const std::string path = "/v1/payment_methods/" + payment_method + "/attach";
    const std::string no_key;
    auto answer = co_await post(path, req, no_key, by);
    if (answer.stage == https::send_stage::completed && answer.status == 200) {
        co_return outcome::approved;
    }
    logging::warn("stripe attach refused",
                  {{"http_status", answer.status},
                   {"error", answer.error.message()},
                   {"message", map_error(answer.status, answer.body).message}});
    co_return answer.stage == https::send_stage::completed&& answer.status == 402
        ? outcome::declined
        : outcome::failed;
}

asio::awaitable<tokenize_result> stripe_gateway::tokenize(const tokenizer::card_data& card,
                                                          const std::string& customer_reference,
                                                          token_use use, deadline by) {
    https::client::request req;
    auto& body = req.body();
    append_form(body, "type", "card");
    append_form(body, "card[number]", card.number());
    // The expiry is card data too: formatted into a buffer that is wiped, not a std::string.
    char month[4];
    char year[8];
    std::snprintf(month, sizeof month, "%d", card.exp_month());
    std::snprintf(year, sizeof year, "%d", card.exp_year());
    append_form(body, "card[exp_month]", month);
    append_form(body, "card[exp_year]", year);
    OPENSSL_cleanse(month, sizeof month);
    OPENSSL_cleanse(year, sizeof year);
    append_form(body, "card[cvc]", card.cvc());
    // The cardholder's name and postal code, when the portal sent them, go only here: for
    // Stripe's address (AVS) and name checks. billpayd keeps neither.
    if (!card.name().empty()) {
        append_form(body, "billing_details[name]", card.name());
    }
    if (!card.postal_code().empty()) {
        append_form(body, "billing_details[address][postal_code]", card.postal_code());
    }
    const std::string path = "/v1/payment_methods";
    const std::string no_key;
    auto answer = co_await post(path, req, no_key, by);
    if (answer.stage != https::send_stage::completed) {
        co_return tokenize_result{outcome::failed, "", "processing_error", answer.error.message()};
    }
    if (answer.status == 200) {
        auto id = field(answer.body, "id");
        if (id.starts_with("pm_") && use == token_use::one_payment) {
            // Unattached: Stripe lets it pay once, which is all it is for.
            co_return tokenize_result{outcome::approved, id, "", ""};
        }
        if (id.starts_with("pm_")) {
            // A saved card pays again and again only on a Customer: the account's, made once.
            // (Nothing is charged by any of this: a failure leaves an unattached PaymentMethod
            // that nobody can use.)
            auto customer = co_await customer_for(customer_reference, by);
            if (customer.empty()) {
                co_return tokenize_result{outcome::failed, "", "processing_error",
                                          "Stripe made no Customer for the account"};
            }
            auto attached = co_await attach(id, customer, by);
            if (attached != outcome::approved) {
                co_return tokenize_result{
                    attached, "",
                    attached == outcome::declined ? "generic_decline" : "processing_error",
                    "Stripe did not attach the card to the Customer"};
            }
            co_return tokenize_result{outcome::approved, join_token(customer, id), "", ""};
        }
        co_return tokenize_result{outcome::failed, "", "processing_error",
                                  "Stripe answered without a payment method id"};
    }
    auto e = map_error(answer.status, answer.body);
    // Nothing is charged by tokenizing: anything but the card's own "no" is a failure.
    co_return tokenize_result{
        e.kind == refusal::card_declined ? outcome::declined : outcome::failed, "", e.decline_code,
        e.message};
}

asio::awaitable<https::result> stripe_gateway::send_charge(const charge_request& request,
                                                           deadline by) {
    https::client::request req;
    auto& body = req.body();
    append_form(body, "amount", std::to_string(request.amount.minor_units));
    append_form(body, "currency", lower(request.amount.unit.code()));
    // A saved card's PaymentMethod is on the account's Customer: Stripe wants both named.
    const auto token = split_token(request.token);
    if (!token.customer.empty()) {
        append_form(body, "customer", token.customer);
    }
    append_form(body, "payment_method", token.payment_method);
    append_form(body, "confirm", "true");
    append_form(body, "payment_method_types[]", "card");
    append_form(body, "metadata[billpay_payment_id]", request.idempotency_key);
    if (!request.description.empty()) {
        append_form(body, "description", request.description);
    }
    const std::string path = "/v1/payment_intents";
    co_return co_await post(path, req, request.idempotency_key, by);
}

std::optional<charge_result> stripe_gateway::intent_outcome(const https::result& answer) {
    if (answer.stage != https::send_stage::completed || answer.status != 200) {
        return std::nullopt;
    }
    auto id = field(answer.body, "id");
    auto status = field(answer.body, "status");
    if (status == "succeeded") {
        return charge_result{outcome::approved, id, "", ""};
    }
    if (status == "processing") {
        return charge_result{outcome::unknown, id, "", "Stripe is still processing"};
    }
    if (status.empty()) {
        return charge_result{outcome::unknown, id, "", "Stripe answered without a status"};
    }
    // requires_action (3-D Secure) cannot be completed by a server-side charge.
    return charge_result{outcome::declined, id, "authentication_required",
                         "Stripe answered status " + status};
}

asio::awaitable<charge_result> stripe_gateway::charge(const charge_request& request, deadline by) {
    auto answer = co_await send_charge(request, by);
    if (answer.stage != https::send_stage::completed) {
        co_return charge_result{incomplete(answer), "", "", answer.error.message()};
    }
    if (auto settled = intent_outcome(answer)) {
        co_return *settled;
    }
    auto e = map_error(answer.status, answer.body);
    switch (e.kind) {
        case refusal::card_declined:
            co_return charge_result{outcome::declined, "", e.decline_code, e.message};
        case refusal::processing_error:
            co_return charge_result{outcome::failed, "", e.decline_code, e.message};
        case refusal::request_refused:  // an answer billpayd does not expect: look it up
        case refusal::rate_limited:
        case refusal::indeterminate:
            break;
    }
    co_return charge_result{outcome::unknown, "", e.decline_code, e.message};
}

asio::awaitable<charge_result> stripe_gateway::lookup(const charge_request& request, deadline by) {
    if (!within_replay_window(request.created_at)) {
        // Stripe may have forgotten the key (it keeps one 24 hours): a resend could charge the
        // card a second time. Only read what Stripe holds.
        co_return co_await search_charge(request, by);
    }
    // Resending with the same Idempotency-Key returns the first attempt's answer if Stripe ever
    // began executing it (marked Idempotent-Replayed), and otherwise makes the charge now, once.
    auto answer = co_await send_charge(request, by);
    if (answer.stage == https::send_stage::completed) {
        if (auto settled = intent_outcome(answer)) {
            co_return *settled;
        }
        auto e = map_error(answer.status, answer.body);
        const bool replayed = answer.headers["Idempotent-Replayed"] == "true";
        switch (e.kind) {
            case refusal::card_declined:  // Stripe executed it (then or now): the card said no
                co_return charge_result{outcome::declined, "", e.decline_code, e.message};
            case refusal::processing_error:
                co_return charge_result{outcome::failed, "", e.decline_code, e.message};
            case refusal::request_refused:
                if (replayed) {
                    // Stripe's own stored answer to our key: the charge was refused, never made.
                    co_return charge_result{outcome::failed, "", e.decline_code, e.message};
                }
                co_return charge_result{outcome::unknown, "", e.decline_code, e.message};
            case refusal::rate_limited:
                co_return charge_result{outcome::unknown, "", e.decline_code, e.message};
            case refusal::indeterminate:
                break;  // a stored 500, or a concurrent request: ask Stripe's search below
        }
    } else {
        // Not sent, or no answer: nothing is learned of the first attempt.
        co_return charge_result{outcome::unknown, "", "", answer.error.message()};
    }
    // Stripe replays a 500 under its key as it first answered it: ask its search instead.
    co_return co_await search_charge(request, by);
}

bool stripe_gateway::within_replay_window(std::string_view first_sent) const {
    auto at = model::parse_rfc3339_utc(first_sent);
    return at && std::chrono::system_clock::now() - *at < settings_.replay_window;
}

asio::awaitable<charge_result> stripe_gateway::search_charge(const charge_request& request,
                                                             deadline by) {
    // Search may lag by a minute: finding nothing leaves the outcome unknown, never failed.
    const std::string target =
        "/v1/payment_intents/search?query=" +
        boost::urls::encode("metadata['billpay_payment_id']:'" + request.idempotency_key + "'",
                            boost::urls::unreserved_chars);
    auto found = co_await get(target, by);
    if (found.stage == https::send_stage::completed && found.status == 200) {
        boost::system::error_code ec;
        auto doc = boost::json::parse(found.body, ec);
        const boost::json::array* data = nullptr;
        if (!ec && doc.is_object()) {
            if (auto* d = doc.as_object().if_contains("data"); d && d->is_array()) {
                data = &d->as_array();
            }
        }
        std::optional<charge_result> settled;
        for (const auto& intent : data ? *data : boost::json::array{}) {
            if (auto r = searched_intent_outcome(intent);
                r && (!settled || r->result == outcome::approved)) {
                settled = r;  // a charge that went through outweighs any that did not
            }
        }
        if (settled) {
            co_return *settled;
        }
    }
    logging::warn("stripe search did not settle the charge",
                  {{"payment_id", request.idempotency_key},
                   {"http_status", found.status},
                   {"error", found.error.message()}});
    co_return charge_result{outcome::unknown, "", "", "Stripe's search does not settle it"};
}

std::optional<charge_result> stripe_gateway::searched_intent_outcome(
    const boost::json::value& intent) {
    const auto* object = intent.if_object();
    if (object == nullptr) {
        return std::nullopt;
    }
    auto text = [](const boost::json::object& o, const char* key) {
        const auto* v = o.if_contains(key);
        return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    const std::string id = text(*object, "id");
    const std::string status = text(*object, "status");
    if (!id.starts_with("pi_")) {
        return std::nullopt;
    }
    if (status == "succeeded") {
        return charge_result{outcome::approved, id, "", ""};
    }
    if (status == "canceled") {
        return charge_result{outcome::failed, id, "", "the PaymentIntent was canceled"};
    }
    const auto* error = object->if_contains("last_payment_error");
    if (status == "requires_payment_method" && error && error->is_object()) {
        // The card refused the confirm: Stripe keeps the PaymentIntent waiting for another.
        std::string code = text(error->as_object(), "decline_code");
        if (code.empty()) {
            code = text(error->as_object(), "code");
        }
        return charge_result{outcome::declined, id, code.empty() ? "generic_decline" : code,
                             "Stripe's PaymentIntent ended in a card error"};
    }
    if (status == "requires_action") {
        return charge_result{outcome::declined, id, "authentication_required",
                             "Stripe answered status requires_action"};
    }
    return std::nullopt;  // processing, or a state that does not settle it
}

asio::awaitable<refund_result> stripe_gateway::find_refund(const refund_request& request,
                                                           deadline by) {
    // The refund list is read-after-write (not search): the refund is there if Stripe made it.
    // Absence still concludes nothing (a refund made before billpayd wrote its id into the
    // metadata, or a list cut short): unknown, and after max_attempts, review.
    const std::string target =
        "/v1/refunds?limit=100&payment_intent=" +
        boost::urls::encode(request.processor_reference, boost::urls::unreserved_chars);
    auto listed = co_await get(target, by);
    if (listed.stage == https::send_stage::completed && listed.status == 200) {
        boost::system::error_code ec;
        auto doc = boost::json::parse(listed.body, ec);
        const auto* data = !ec && doc.is_object() ? doc.as_object().if_contains("data") : nullptr;
        if (data && data->is_array()) {
            for (const auto& r : data->as_array()) {
                const auto* o = r.if_object();
                const auto* metadata = o ? o->if_contains("metadata") : nullptr;
                const auto* ours = metadata && metadata->is_object()
                                       ? metadata->as_object().if_contains("billpay_refund_id")
                                       : nullptr;
                const auto* id = o ? o->if_contains("id") : nullptr;
                const auto* status = o ? o->if_contains("status") : nullptr;
                if (ours && ours->is_string() && ours->as_string() == request.idempotency_key &&
                    id && id->is_string() && status && status->is_string()) {
                    if (status->as_string() == "failed" || status->as_string() == "canceled") {
                        co_return refund_result{outcome::declined, std::string(id->as_string()),
                                                "refund_failed", "Stripe's refund failed"};
                    }
                    co_return refund_result{outcome::approved, std::string(id->as_string()), "",
                                            "found in Stripe's refund list"};
                }
            }
        }
    }
    co_return refund_result{outcome::unknown, "", "",
                            "the refund's key is past its replay window and Stripe's refund list "
                            "does not hold it"};
}

asio::awaitable<refund_result> stripe_gateway::reverse(const std::string& path,
                                                       https::client::request& req,
                                                       const std::string& key, bool retry,
                                                       deadline by) {
    auto answer = co_await post(path, req, key, by);
    if (answer.stage != https::send_stage::completed) {
        // Not sent: nothing happened for this request (a first attempt refunded nothing).
        co_return refund_result{incomplete(answer), "", "", answer.error.message()};
    }
    if (answer.status == 200) {
        co_return refund_result{outcome::approved, field(answer.body, "id"), "", ""};
    }
    auto e = map_error(answer.status, answer.body);
    const bool replayed = answer.headers["Idempotent-Replayed"] == "true";
    switch (e.kind) {
        case refusal::card_declined:
        case refusal::request_refused:
            // Stripe refused the refund (more than remains, already refunded, …). On a repeat
            // only its stored answer to the first attempt says so for that attempt.
            if (!retry || replayed) {
                co_return refund_result{outcome::declined, "", e.decline_code, e.message};
            }
            break;
        case refusal::processing_error:
            co_return refund_result{outcome::failed, "", e.decline_code, e.message};
        case refusal::rate_limited:
        case refusal::indeterminate:
            break;
    }
    co_return refund_result{outcome::unknown, "", e.decline_code, e.message};
}

asio::awaitable<refund_result> stripe_gateway::refund(const refund_request& request, deadline by) {
    if (request.retry && !within_replay_window(request.requested_at)) {
        co_return co_await find_refund(request, by);  // never a POST under a forgotten key
    }
    https::client::request req;
    append_form(req.body(), "payment_intent", request.processor_reference);
    append_form(req.body(), "amount", std::to_string(request.amount.minor_units));
    append_form(req.body(), "metadata[billpay_refund_id]", request.idempotency_key);
    const std::string path = "/v1/refunds";
    co_return co_await reverse(path, req, request.idempotency_key, request.retry, by);
}

asio::awaitable<refund_result> stripe_gateway::void_charge(const refund_request& request,
                                                           deadline by) {
    if (request.retry && !within_replay_window(request.requested_at)) {
        // Read, never resent: a canceled PaymentIntent is the void done.
        auto intent = co_await get("/v1/payment_intents/" + request.processor_reference, by);
        if (intent.stage == https::send_stage::completed && intent.status == 200 &&
            field(intent.body, "status") == "canceled") {
            refund_result done{outcome::approved, request.processor_reference, "", "canceled"};
            done.voided = true;
            co_return done;
        }
        co_return refund_result{outcome::unknown, "", "", "the void is past its replay window"};
    }
    https::client::request req;
    const std::string path = "/v1/payment_intents/" + request.processor_reference + "/cancel";
    co_return co_await reverse(path, req, request.idempotency_key, request.retry, by);
}

asio::awaitable<delete_result> stripe_gateway::delete_token(const std::string& token, deadline by) {
    const auto parts = split_token(token);
    if (parts.customer.empty()) {
        // A PaymentMethod on no Customer (as saved before billpayd kept saved cards on one):
        // there is nothing to detach, and Stripe refuses to try (400). It can pay no more.
        co_return delete_result{outcome::approved, ""};
    }
    https::client::request req;
    const std::string path = "/v1/payment_methods/" + parts.payment_method + "/detach";
    const std::string no_key;
    auto answer = co_await post(path, req, no_key, by);
    if (answer.stage != https::send_stage::completed) {
        co_return delete_result{incomplete(answer), answer.error.message()};
    }
    if (answer.status == 200) {
        co_return delete_result{outcome::approved, ""};
    }
    auto e = map_error(answer.status, answer.body);
    // No such PaymentMethod (404) is "gone already"; any other refusal leaves the card saved.
    if (answer.status == 404) {
        co_return delete_result{outcome::declined, e.message};
    }
    co_return delete_result{e.kind == refusal::request_refused ? outcome::failed : outcome::unknown,
                            e.message};
}

asio::awaitable<delete_result> stripe_gateway::discard_token(const std::string& token,
                                                             deadline by) {
    // A card made for saving whose payment failed is detached from the Customer; a one-off
    // PaymentMethod on no Customer pays once only and holds nothing to forget.
    co_return co_await delete_token(token, by);
}

asio::awaitable<token_description> stripe_gateway::adopt_token(
    const browser_token& browser, const std::string& customer_reference, token_use use,
    deadline by) {
    token_description out;
    const std::string& token = browser.id;
    bool well_formed = token.starts_with("pm_") && token.size() < 256 &&
                       std::all_of(token.begin(), token.end(), [](char c) {
                           return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                       });
    if (!well_formed) {
        out.result = outcome::declined;
        out.message = "not a Stripe PaymentMethod id";
        co_return out;
    }
    const std::string target = "/v1/payment_methods/" + token;
    auto answer = co_await get(target, by);
    if (answer.stage != https::send_stage::completed) {
        out.result = outcome::failed;
        out.message = answer.error.message();
        co_return out;
    }
    if (answer.status != 200) {
        auto e = map_error(answer.status, answer.body);
        out.result = answer.status == 404 ? outcome::declined : outcome::failed;
        out.message = e.message;
        co_return out;
    }
    boost::system::error_code ec;
    auto doc = boost::json::parse(answer.body, ec);
    if (ec || !doc.is_object() || !doc.as_object().contains("card") ||
        !doc.at("card").is_object()) {
        out.result = outcome::declined;
        out.message = "the PaymentMethod is not a card";
        co_return out;
    }
    const auto& card = doc.at("card").as_object();
    auto text = [&card](const char* key) {
        auto it = card.find(key);
        return it != card.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                           : std::string();
    };
    auto number = [&card](const char* key) {
        auto it = card.find(key);
        return it != card.end() && it->value().is_int64() ? static_cast<int>(it->value().as_int64())
                                                          : 0;
    };
    out.result = outcome::approved;
    out.token = token;
    out.brand = text("brand");
    out.last4 = text("last4");
    out.exp_month = number("exp_month");
    out.exp_year = number("exp_year");
    out.processor_fingerprint = text("fingerprint");
    if (out.last4.size() != 4 || out.exp_month < 1 || out.exp_year < 2000) {
        out.result = outcome::declined;
        out.message = "the PaymentMethod's card is incomplete";
        co_return out;
    }
    const auto owner = doc.as_object().find("customer");
    if (owner != doc.as_object().end() && owner->value().is_string()) {
        // On a Customer already: only the account's own may be used (billpayd attached it when
        // this account saved the card). Whoever knows another customer's PaymentMethod id
        // must not pay with it, nor save it.
        const std::string customer(owner->value().as_string());
        auto whose = co_await customer_reference_of(customer, by);
        if (!whose) {
            out.result = outcome::failed;
            out.message = "Stripe did not say whose Customer holds the PaymentMethod";
            co_return out;
        }
        if (*whose != customer_reference) {
            out.result = outcome::declined;
            out.decline_code = std::string(token_not_owned);
            out.message = "the PaymentMethod is attached to another customer's Customer";
            co_return out;
        }
        out.token = join_token(customer, token);
        out.reused = true;
    } else if (use == token_use::saved_card) {
        auto customer = co_await customer_for(customer_reference, by);
        auto attached = outcome::failed;
        if (!customer.empty()) {
            attached = co_await attach(token, customer, by);
        }
        if (attached != outcome::approved) {
            out.result = attached;
            out.message = "Stripe did not attach the card to the account's Customer";
            co_return out;
        }
        out.token = join_token(customer, token);
    }
    co_return out;
}

}  // namespace billpay::gateway::stripe
