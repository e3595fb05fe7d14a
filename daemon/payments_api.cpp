#include "daemon/payments_api.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <pqxx/pqxx>
#include <variant>

#include "correspondence/messages.hpp"
#include "daemon/api_common.hpp"
#include "daemon/payment_requests.hpp"
#include "logging/log.hpp"
#include "payments/ids.hpp"
#include "store/idempotency_keys.hpp"
#include "store/payment_methods.hpp"

namespace billpay::daemon {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using config::client_role;

/// The portal's POST: authenticated, role portal, with an Idempotency-Key.
struct post_caller {
    api_client client;
    std::string key;
};

std::variant<post_caller, response> portal_post(const api_clients& clients, const request& req,
                                                const request_context& ctx) {
    auto who = caller(clients, req, ctx, {client_role::portal});
    if (auto* refusal = std::get_if<response>(&who)) {
        return std::move(*refusal);
    }
    auto key = idempotency_key(req, ctx);
    if (auto* refusal = std::get_if<response>(&key)) {
        return std::move(*refusal);
    }
    return post_caller{std::get<api_client>(who), std::get<std::string>(key)};
}

}  // namespace

payments_api::payments_api(const config::settings& settings, const api_clients& clients,
                           store::database& database, gateway::gateway& processor,
                           const tokenizer::fingerprinter& fingerprints)
    : settings_(settings),
      clients_(clients),
      database_(database),
      processor_(processor),
      fingerprints_(fingerprints) {}

void payments_api::add_routes(router& routes) {
    auto bind = [this](auto member) {
        return [this, member](request_context& ctx, request& req) {
            return (this->*member)(ctx, req);
        };
    };
    routes.add(http::verb::post, "/v1/payments", bind(&payments_api::create_payment));
    routes.add(http::verb::get, "/v1/payments", bind(&payments_api::list_payments));
    routes.add(http::verb::get, "/v1/payments/{id}", bind(&payments_api::get_payment));
    routes.add(http::verb::post, "/v1/payment_methods", bind(&payments_api::create_payment_method));
    routes.add(http::verb::get, "/v1/payment_methods", bind(&payments_api::list_payment_methods));
    routes.add(http::verb::delete_, "/v1/payment_methods/{id}",
               bind(&payments_api::delete_payment_method));
}

asio::awaitable<void> payments_api::release_key(const std::string& client_id,
                                                const std::string& key) {
    co_await daemon::release_key(database_, client_id, key);
}

asio::awaitable<void> payments_api::record_response(const std::string& client_id,
                                                    const std::string& key, const response& res,
                                                    const request_context& ctx) {
    co_await daemon::record_response(database_, client_id, key, res, ctx);
}

std::variant<payments_api::checked_card, response> payments_api::check_card(
    const tokenizer::card_data& card, const request_context& ctx) const {
    if (auto problem = tokenizer::check_card(card, tokenizer::current_year_month())) {
        return error_response(http::status::bad_request, error_type::invalid_request_error,
                              problem->code, problem->message, ctx.request_id, problem->param);
    }
    auto summary = fingerprints_.describe(card);
    return checked_card{
        store::card_record{std::string(tokenizer::to_string(summary.brand)), summary.last4,
                           summary.exp_month, summary.exp_year, summary.fingerprint},
        fingerprints_.of_request_fields(card)};
}

store::card_record payments_api::card_from_token(
    const gateway::token_description& described) const {
    auto brand = tokenizer::parse_card_brand(described.brand);
    // The processor's card fingerprint is keyed again: stored, it means nothing elsewhere.
    const std::string& seen =
        described.processor_fingerprint.empty() ? described.token : described.processor_fingerprint;
    return store::card_record{
        brand ? std::string(tokenizer::to_string(*brand)) : std::string("unknown"), described.last4,
        described.exp_month, described.exp_year,
        fingerprints_.of_processor_fingerprint(processor_.name(), seen)};
}

gateway::deadline payments_api::processor_deadline() const {
    return std::chrono::steady_clock::now() + settings_.gateway.timeout;
}

store::stored_response payments_api::render_payment_response(const store::payment_record& p,
                                                             std::string_view request_id) {
    using payments::payment_status;
    auto payment = payment_json(p);
    switch (p.status) {
        case payment_status::pending:
            return {202, json::serialize(payment)};
        case payment_status::declined:
        case payment_status::failed: {
            bool declined = p.status == payment_status::declined;
            json::object error{
                {"type", "card_error"},
                {"code", declined ? "card_declined" : "processing_error"},
                {"message", declined ? "The card was declined."
                                     : "The payment could not be processed and nothing was "
                                       "charged. It is safe to try again with a new "
                                       "Idempotency-Key."},
                {"decline_code",
                 p.decline_code ? json::value(*p.decline_code) : json::value("processing_error")},
                {"payment", std::move(payment)},
                {"request_id", request_id}};
            return {402, json::serialize(json::object{{"error", std::move(error)}})};
        }
        default:
            return {201, json::serialize(payment)};
    }
}

gateway::charge_request payments_api::charge_request_for(const store::payment_record& p) {
    return {p.processor_token, p.amount, p.id,
            "Utility bill payment, account " + p.account_number +
                (p.bill_id ? ", bill " + *p.bill_id : std::string())};
}

store::state_writers payments_api::state_writers_for(std::string request_id) {
    return {[request_id](const store::payment_record& row) {
                return render_payment_response(row, request_id);
            },
            &correspondence::render_payment_message};
}

asio::awaitable<response> payments_api::create_payment(request_context& ctx, request& req) {
    auto who = portal_post(clients_, req, ctx);
    if (auto* refusal = std::get_if<response>(&who)) {
        co_return std::move(*refusal);
    }
    const post_caller post = std::get<post_caller>(who);
    const api_client& client = post.client;
    const std::string& key = post.key;

    auto parsed = parse_payment_request(req.body());
    if (auto* e = std::get_if<field_error>(&parsed)) {
        co_return bad_request(ctx, *e);
    }
    auto& pr = std::get<payment_request>(parsed);

    auto currency = payments::currency::parse(pr.currency);
    const auto& allowed = settings_.payments.currencies;
    if (!currency || std::find(allowed.begin(), allowed.end(), pr.currency) == allowed.end()) {
        co_return bad_request(ctx, {"currency", "currency_not_supported",
                                    "This utility does not accept payments in that currency."});
    }
    if (pr.amount < settings_.payments.min_amount) {
        co_return bad_request(ctx, {"amount", "amount_too_small",
                                    "The amount is below the smallest payment accepted (" +
                                        std::to_string(settings_.payments.min_amount) + ")."});
    }
    if (pr.amount > settings_.payments.max_amount) {
        co_return bad_request(ctx, {"amount", "amount_too_large",
                                    "The amount is above the largest payment accepted (" +
                                        std::to_string(settings_.payments.max_amount) + ")."});
    }

    std::optional<store::card_record> new_card;  // a card not saved before: what is kept of it
    std::optional<store::payment_method_record> method;
    std::string card_fingerprint;
    if (pr.card) {
        auto checked = check_card(*pr.card, ctx);
        if (auto* refusal = std::get_if<response>(&checked)) {
            co_return std::move(*refusal);
        }
        new_card = std::get<checked_card>(checked).record;
        card_fingerprint = std::get<checked_card>(checked).request_fingerprint;
    } else if (pr.processor_token) {
        card_fingerprint = "token:" + pr.processor_token->canonical();
    } else {
        try {
            const std::string& id = *pr.payment_method;
            method = co_await database_.run(
                [&id](pqxx::connection& conn) { return store::find_payment_method(conn, id); });
        } catch (const store::unavailable&) {
            co_return unavailable(ctx);
        }
        if (!method || method->account_number != pr.account_number) {
            co_return bad_request(ctx, {"payment_method", "resource_missing",
                                        "No such payment method for this account."});
        }
        if (method->processor != processor_.name()) {
            co_return bad_request(ctx, {"payment_method", "payment_method_unusable",
                                        "This card was saved with another processor; save it "
                                        "again."});
        }
        card_fingerprint = "pm:" + method->id;
    }

    store::key_claim claim{client.id,
                           key,
                           "POST",
                           "/v1/payments",
                           request_fingerprint(pr, card_fingerprint),
                           pr.account_number,
                           pr.bill_id,
                           pr.bill_id.has_value() && !pr.confirm_duplicate,
                           settings_.payments.duplicate_window_minutes,
                           std::max<std::int64_t>(60'000, 2 * settings_.gateway.timeout.count())};
    store::claim_result claimed;
    try {
        claimed = co_await database_.run(
            [&claim](pqxx::connection& conn) { return store::claim_key(conn, claim); });
    } catch (const store::unavailable&) {
        co_return unavailable(ctx);
    }
    if (claimed.status != store::claim_status::claimed) {
        co_return claim_refusal(claimed, ctx);
    }

    // From here on the key is ours: every way out records its response or gives the key back.
    std::string token;
    if (pr.card) {
        const std::string customer_reference = pr.account_number;
        auto tokenized =
            co_await processor_.tokenize(*pr.card, customer_reference, processor_deadline());
        pr.card->wipe();  // the card is not needed again: only its token
        if (tokenized.result != gateway::outcome::approved) {
            bool declined = tokenized.result == gateway::outcome::declined;
            logging::warn("tokenize refused", {{"request_id", ctx.request_id},
                                               {"outcome", gateway::to_string(tokenized.result)},
                                               {"decline_code", tokenized.decline_code}});
            auto res = declined
                           ? card_refused(http::status::payment_required, error_type::card_error,
                                          "card_declined", tokenized.decline_code,
                                          "The card was declined.", ctx)
                           : card_refused(http::status::bad_gateway, error_type::api_error,
                                          "processor_unavailable", "",
                                          "The payment processor could not be reached; "
                                          "nothing was charged.",
                                          ctx);
            if (declined) {
                co_await record_response(client.id, key, res, ctx);  // the card's answer stands
            } else {
                co_await release_key(client.id, key);  // nothing happened: retry with this key
            }
            co_return res;
        }
        token = tokenized.token;
    } else if (pr.processor_token) {
        // The portal tokenized the card in the browser: the processor makes it chargeable and
        // says what card it is.
        const std::string customer_reference = pr.account_number;
        auto described = co_await processor_.adopt_token(*pr.processor_token, customer_reference,
                                                         processor_deadline());
        if (described.result != gateway::outcome::approved) {
            co_await release_key(client.id, key);
            if (described.result == gateway::outcome::declined) {
                co_return bad_request(ctx, {"processor_token", "resource_missing",
                                            "The processor does not know this card token."});
            }
            co_return card_refused(http::status::bad_gateway, error_type::api_error,
                                   "processor_unavailable", "",
                                   "The payment processor could not be reached; nothing was "
                                   "charged.",
                                   ctx);
        }
        new_card = card_from_token(described);
        token = described.token;
    } else {
        token = method->processor_token;
    }

    store::payment_record p;
    p.id = payments::new_id("pay");
    p.client_id = client.id;
    p.account_number = pr.account_number;
    p.bill_id = pr.bill_id;
    p.amount = payments::money{pr.amount, *currency};
    p.confirmation = payments::new_confirmation_code();
    if (new_card) {
        p.card = *new_card;
    } else {
        p.card = method->card;
        p.payment_method_id = method->id;
    }
    p.processor = std::string(processor_.name());
    p.processor_token = token;
    p.customer_name = pr.customer.name;
    p.customer_email = pr.customer.email;
    json::object metadata;
    for (const auto& [k, v] : pr.metadata) {
        metadata[k] = v;
    }
    p.metadata_json = json::serialize(metadata);
    bool recorded = false;
    try {
        co_await database_.run([&](pqxx::connection& conn) {
            store::insert_payment(conn, p, key);
            return true;
        });
        recorded = true;
    } catch (const std::exception& e) {
        logging::error("could not record a new payment",
                       {{"request_id", ctx.request_id}, {"error", e.what()}});
    }
    if (!recorded) {
        // Nothing was charged; the token alone is harmless. Give the key back for a retry.
        co_await release_key(client.id, key);
        co_return unavailable(ctx);
    }

    const gateway::charge_request charge = charge_request_for(p);
    auto charged = co_await processor_.charge(charge, processor_deadline());
    logging::info("charge", {{"request_id", ctx.request_id},
                             {"payment_id", p.id},
                             {"outcome", gateway::to_string(charged.result)},
                             {"amount", p.amount.minor_units},
                             {"currency", p.amount.unit.code()},
                             {"decline_code", charged.decline_code}});

    if (charged.result == gateway::outcome::unknown) {
        // The processor may or may not have charged: never charge again blindly. The payment
        // stays pending and the recovery worker asks the processor later.
        auto stored = render_payment_response(p, ctx.request_id);
        try {
            auto writers = state_writers_for(ctx.request_id);
            stored = co_await database_.run([&](pqxx::connection& conn) {
                return store::record_pending_answer(conn, p.id, client.id, key, writers);
            });
        } catch (const std::exception& e) {
            logging::error("could not record a pending payment's response",
                           {{"request_id", ctx.request_id}, {"error", e.what()}});
        }
        co_return from_stored(stored);
    }

    store::payment_outcome result;
    switch (charged.result) {
        case gateway::outcome::approved:
            result.status = payments::payment_status::succeeded;
            break;
        case gateway::outcome::declined:
            result.status = payments::payment_status::declined;
            result.decline_code =
                charged.decline_code.empty() ? "generic_decline" : charged.decline_code;
            break;
        default:
            result.status = payments::payment_status::failed;
            result.decline_code =
                charged.decline_code.empty() ? "processing_error" : charged.decline_code;
            result.failure_message = charged.message;
            break;
    }
    if (!charged.processor_reference.empty()) {
        result.processor_reference = charged.processor_reference;
    }

    try {
        if (result.status == payments::payment_status::succeeded && pr.save_payment_method &&
            new_card) {
            store::payment_method_record m{payments::new_id("pm"),
                                           client.id,
                                           p.account_number,
                                           p.processor,
                                           token,
                                           p.card,
                                           ""};
            auto saved = co_await database_.run(
                [&](pqxx::connection& conn) { return store::save_payment_method(conn, m); });
            result.payment_method_id = saved.method.id;
        }
        auto writers = state_writers_for(ctx.request_id);
        auto finished = co_await database_.run([&](pqxx::connection& conn) {
            return store::finish_payment(conn, p.id, result, writers);
        });
        co_return from_stored(render_payment_response(finished, ctx.request_id));
    } catch (const std::exception& e) {
        // The processor answered but the answer could not be written: the payment stays
        // pending, and the recovery worker learns the outcome again from the processor.
        logging::error("could not record a payment's outcome",
                       {{"request_id", ctx.request_id}, {"payment_id", p.id}, {"error", e.what()}});
        co_return from_stored(render_payment_response(p, ctx.request_id));
    }
}

asio::awaitable<response> payments_api::get_payment(request_context& ctx, request& req) {
    auto who = caller(clients_, req, ctx, {client_role::portal, client_role::finance});
    if (auto* refusal = std::get_if<response>(&who)) {
        co_return std::move(*refusal);
    }
    const auto client = std::get<api_client>(who);
    auto account = ctx.query_value("account_number");
    if (client.role == client_role::portal && !account) {
        co_return bad_request(ctx, {"account_number", "parameter_missing",
                                    "Name the customer's account_number on every read."});
    }
    std::optional<store::payment_record> found;
    try {
        const std::string& id = ctx.path_params.at("id");
        found = co_await database_.run(
            [&id](pqxx::connection& conn) { return store::find_payment(conn, id); });
    } catch (const store::unavailable&) {
        co_return unavailable(ctx);
    }
    // Another account's payment is as absent as one that does not exist.
    if (!found || (account && found->account_number != *account)) {
        co_return error_response(http::status::not_found, error_type::invalid_request_error,
                                 "resource_missing", "No such payment.", ctx.request_id, "id");
    }
    if (client.role == client_role::finance) {
        const store::audit_entry read{
            client.id,
            source_of(ctx),
            "payments.read",
            found->id,
            "",
            json::serialize(json::object{{"account_number", found->account_number}})};
        if (!co_await audit(database_, read)) {
            co_return unavailable(ctx, "nothing was shown");
        }
    }
    co_return json_response(http::status::ok, payment_json(*found));
}

asio::awaitable<response> payments_api::list_payments(request_context& ctx, request& req) {
    auto who = caller(clients_, req, ctx, {client_role::portal, client_role::finance});
    if (auto* refusal = std::get_if<response>(&who)) {
        co_return std::move(*refusal);
    }
    const auto client = std::get<api_client>(who);
    store::payment_filter filter;
    filter.account_number = ctx.query_value("account_number");
    if (client.role == client_role::portal && !filter.account_number) {
        co_return bad_request(ctx, {"account_number", "parameter_missing",
                                    "Name the customer's account_number on every read."});
    }
    for (const auto& [name, value] : ctx.query) {
        static constexpr std::string_view known[] = {
            "account_number", "limit",       "starting_after", "status",
            "created[gte]",   "created[lt]", "requires_review"};
        if (std::find(std::begin(known), std::end(known), name) == std::end(known)) {
            co_return bad_request(ctx, {"", "parameter_unknown", "Unknown query parameter."});
        }
        bool finance_only =
            name == "created[gte]" || name == "created[lt]" || name == "requires_review";
        if (finance_only && client.role != client_role::finance) {
            co_return bad_request(
                ctx, {name, "parameter_unknown", "This filter is for the finance role."});
        }
    }
    if (auto limit = ctx.query_value("limit")) {
        int n = 0;
        auto [ptr, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), n);
        if (ec != std::errc{} || ptr != limit->data() + limit->size() || n < 1 || n > 100) {
            co_return bad_request(ctx, {"limit", "parameter_invalid",
                                        "The limit must be a whole number from 1 to 100."});
        }
        filter.limit = n;
    }
    if (auto status = ctx.query_value("status")) {
        filter.status = payments::parse_payment_status(*status);
        if (!filter.status) {
            co_return bad_request(ctx, {"status", "parameter_invalid", "No such payment status."});
        }
    }
    if (auto review = ctx.query_value("requires_review")) {
        if (*review != "true" && *review != "false") {
            co_return bad_request(ctx, {"requires_review", "parameter_invalid",
                                        "Use requires_review=true or false."});
        }
        filter.needs_review = *review == "true";
    }
    for (auto [name, slot] : {std::pair{"created[gte]", &filter.created_from},
                              std::pair{"created[lt]", &filter.created_to}}) {
        if (auto value = ctx.query_value(name)) {
            if (!valid_time(*value)) {
                co_return bad_request(ctx, {name, "parameter_invalid",
                                            "Use a date (2026-11-26) or an RFC 3339 time."});
            }
            *slot = *value;
        }
    }
    if (filter.account_number && !valid_account_number(*filter.account_number)) {
        co_return bad_request(ctx, {"account_number", "parameter_invalid",
                                    "The account number must be 1 to 32 letters, digits or "
                                    "dashes."});
    }
    filter.starting_after = ctx.query_value("starting_after");

    store::payment_page page;
    try {
        page = co_await database_.run(
            [&filter](pqxx::connection& conn) { return store::list_payments(conn, filter); });
    } catch (const store::unavailable&) {
        co_return unavailable(ctx);
    } catch (const std::invalid_argument&) {
        co_return bad_request(
            ctx, {"starting_after", "resource_missing", "No such payment to start after."});
    } catch (const pqxx::data_exception&) {
        co_return bad_request(ctx, {"created", "parameter_invalid", "That is not a valid time."});
    }
    json::array data;
    std::string ids;
    for (const auto& p : page.payments) {
        data.push_back(payment_json(p));
        ids += (ids.empty() ? "" : ",") + p.id;
    }
    if (client.role == client_role::finance) {
        // Finance reads customers' payments: who, which, with what filter, from where.
        json::object filters;
        for (const auto& [name, value] : ctx.query) {
            filters[name] = value;
        }
        const store::audit_entry read{client.id, source_of(ctx),          "payments.listed", ids,
                                      "",        json::serialize(filters)};
        if (!co_await audit(database_, read)) {
            co_return unavailable(ctx, "nothing was shown");
        }
    }
    co_return json_response(http::status::ok, json::object{{"object", "list"},
                                                           {"data", std::move(data)},
                                                           {"has_more", page.has_more},
                                                           {"url", "/v1/payments"}});
}

asio::awaitable<response> payments_api::create_payment_method(request_context& ctx, request& req) {
    auto who = portal_post(clients_, req, ctx);
    if (auto* refusal = std::get_if<response>(&who)) {
        co_return std::move(*refusal);
    }
    const post_caller post = std::get<post_caller>(who);
    const api_client& client = post.client;
    const std::string& key = post.key;
    auto parsed = parse_payment_method_request(req.body());
    if (auto* e = std::get_if<field_error>(&parsed)) {
        co_return bad_request(ctx, *e);
    }
    auto& pr = std::get<payment_method_request>(parsed);
    std::optional<store::card_record> card;
    std::string fingerprint_input = pr.account_number + "\n";
    if (pr.card) {
        auto checked = check_card(*pr.card, ctx);
        if (auto* refusal = std::get_if<response>(&checked)) {
            co_return std::move(*refusal);
        }
        card = std::get<checked_card>(checked).record;
        fingerprint_input += std::get<checked_card>(checked).request_fingerprint;
    } else {
        fingerprint_input += "token:" + pr.processor_token->canonical();
    }
    payment_request for_fingerprint;
    for_fingerprint.account_number = pr.account_number;
    store::key_claim claim{client.id,
                           key,
                           "POST",
                           "/v1/payment_methods",
                           request_fingerprint(for_fingerprint, fingerprint_input),
                           pr.account_number,
                           std::nullopt};
    store::claim_result claimed;
    try {
        claimed = co_await database_.run(
            [&claim](pqxx::connection& conn) { return store::claim_key(conn, claim); });
    } catch (const store::unavailable&) {
        co_return unavailable(ctx);
    }
    if (claimed.status != store::claim_status::claimed) {
        co_return claim_refusal(claimed, ctx);
    }

    gateway::tokenize_result tokenized;
    bool unknown_token = false;
    if (pr.card) {
        const std::string customer_reference = pr.account_number;
        tokenized =
            co_await processor_.tokenize(*pr.card, customer_reference, processor_deadline());
        pr.card->wipe();
    } else {
        // Made in the customer's browser: the processor tells what card it is.
        const std::string customer_reference = pr.account_number;
        auto described = co_await processor_.adopt_token(*pr.processor_token, customer_reference,
                                                         processor_deadline());
        if (described.result == gateway::outcome::approved) {
            card = card_from_token(described);
            tokenized = {gateway::outcome::approved, described.token, "", "", described.reused};
        } else {
            unknown_token = described.result == gateway::outcome::declined;
            tokenized = {gateway::outcome::failed, "", "", described.message};
        }
    }
    response res;
    if (unknown_token) {
        res = bad_request(ctx, {"processor_token", "resource_missing",
                                "The processor does not know this card token."});
    } else if (tokenized.result != gateway::outcome::approved) {
        res = tokenized.result == gateway::outcome::declined
                  ? card_refused(http::status::payment_required, error_type::card_error,
                                 "card_declined", tokenized.decline_code, "The card was declined.",
                                 ctx)
                  : card_refused(http::status::bad_gateway, error_type::api_error,
                                 "processor_unavailable", "",
                                 "The payment processor could not be reached.", ctx);
    } else {
        // A token billpayd had made just now may be deleted if it is not kept; one the portal
        // made (Stripe.js), or one the processor already held for this card, may not.
        bool spare =
            !tokenized.reused && (pr.card.has_value() || tokenized.token != pr.processor_token->id);
        bool save_failed = false;
        store::payment_method_record m{payments::new_id("pm"),
                                       client.id,
                                       pr.account_number,
                                       std::string(processor_.name()),
                                       tokenized.token,
                                       *card,
                                       ""};
        try {
            auto saved = co_await database_.run(
                [&m](pqxx::connection& conn) { return store::save_payment_method(conn, m); });
            if (!saved.created && spare && tokenized.token != saved.method.processor_token) {
                // The account already has this card: keep one token at the processor.
                co_await processor_.delete_token(tokenized.token, processor_deadline());
            }
            res = json_response(saved.created ? http::status::created : http::status::ok,
                                payment_method_json(saved.method));
        } catch (const std::exception& e) {
            logging::error("could not save a payment method",
                           {{"request_id", ctx.request_id}, {"error", e.what()}});
            save_failed = true;
        }
        if (save_failed) {
            if (spare) {
                co_await processor_.delete_token(tokenized.token, processor_deadline());
            }
            co_await release_key(client.id, key);
            co_return unavailable(ctx);
        }
    }
    // A decline or a saved card is the answer this key replays; an unknown token or an
    // unreachable processor changed nothing, and the key is free for a retry.
    bool nothing_happened = unknown_token || (tokenized.result != gateway::outcome::approved &&
                                              tokenized.result != gateway::outcome::declined);
    if (nothing_happened) {
        co_await release_key(client.id, key);
    } else {
        co_await record_response(client.id, key, res, ctx);
    }
    co_return res;
}

asio::awaitable<response> payments_api::list_payment_methods(request_context& ctx, request& req) {
    auto who = caller(clients_, req, ctx, {client_role::portal, client_role::finance});
    if (auto* refusal = std::get_if<response>(&who)) {
        co_return std::move(*refusal);
    }
    auto account = ctx.query_value("account_number");
    if (!account || !valid_account_number(*account)) {
        co_return bad_request(
            ctx, {"account_number", account ? "parameter_invalid" : "parameter_missing",
                  "Name the customer's account_number."});
    }
    std::vector<store::payment_method_record> methods;
    try {
        methods = co_await database_.run([&account](pqxx::connection& conn) {
            return store::list_payment_methods(conn, *account);
        });
    } catch (const store::unavailable&) {
        co_return unavailable(ctx);
    }
    json::array data;
    for (const auto& m : methods) {
        data.push_back(payment_method_json(m));
    }
    const auto client = std::get<api_client>(who);
    if (client.role == client_role::finance) {
        const store::audit_entry read{
            client.id, source_of(ctx), "payment_methods.listed", *account, "", "{}"};
        if (!co_await audit(database_, read)) {
            co_return unavailable(ctx, "nothing was shown");
        }
    }
    co_return json_response(http::status::ok, json::object{{"object", "list"},
                                                           {"data", std::move(data)},
                                                           {"has_more", false},
                                                           {"url", "/v1/payment_methods"}});
}

asio::awaitable<response> payments_api::delete_payment_method(request_context& ctx, request& req) {
    auto who = caller(clients_, req, ctx, {client_role::portal});
    if (auto* refusal = std::get_if<response>(&who)) {
        co_return std::move(*refusal);
    }
    auto account = ctx.query_value("account_number");
    if (!account) {
        co_return bad_request(
            ctx, {"account_number", "parameter_missing", "Name the customer's account_number."});
    }
    const auto id = ctx.path_params.at("id");
    std::optional<store::payment_method_record> method;
    try {
        method = co_await database_.run(
            [&id](pqxx::connection& conn) { return store::find_payment_method(conn, id); });
    } catch (const store::unavailable&) {
        co_return unavailable(ctx);
    }
    if (!method || method->account_number != *account) {
        co_return error_response(http::status::not_found, error_type::invalid_request_error,
                                 "resource_missing", "No such payment method.", ctx.request_id,
                                 "id");
    }
    auto deleted = co_await processor_.delete_token(method->processor_token, processor_deadline());
    if (deleted.result == gateway::outcome::failed || deleted.result == gateway::outcome::unknown) {
        co_return card_refused(http::status::bad_gateway, error_type::api_error,
                               "processor_unavailable", "",
                               "The payment processor could not be reached; the card is still "
                               "saved. Try again.",
                               ctx);
    }
    try {
        co_await database_.run(
            [&id](pqxx::connection& conn) { return store::delete_payment_method(conn, id); });
    } catch (const store::unavailable&) {
        co_return unavailable(ctx);
    }
    co_return json_response(
        http::status::ok,
        json::object{{"id", id}, {"object", "payment_method"}, {"deleted", true}});
}

}  // namespace billpay::daemon
