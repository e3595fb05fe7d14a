#include "daemon/payments_api.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>

#include "daemon/payment_requests.hpp"

namespace billpay::daemon {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using config::client_role;
using payments::pay_status;

/// 409 too_many_cards: the processor's limit on cards per customer, the customer's to lift.
/// 400 processor_token_not_owned: a browser token of another customer's at the processor.
api_error token_not_owned() {
    return invalid_request("processor_token", "processor_token_not_owned",
                           "This card token belongs to another customer at the processor; "
                           "tokenize the card again in the browser.");
}

api_error too_many_cards() {
    return {http::status::conflict, error_type::invalid_request_error, "too_many_cards",
            "The payment processor keeps no more cards for this account (Authorize.Net keeps "
            "ten). Remove a saved card, or pay with one of them. Nothing was charged."};
}

/// "The account's payments are the portal's to read only with the account named."
api_error account_required() {
    return invalid_request("account_number", "parameter_missing",
                           "Name the customer's account_number on every read.");
}

/// What an operation says it did not do, in the shared failures' answers.
struct not_done {
    std::string_view nothing;         // "nothing was charged"
    std::string_view processor_down;  // the 502's message
};

/// The one table from payments' shared failures to the answer and what becomes of the key, for
/// paying, saving a card and deleting one alike: a decline stands for its key (the card's
/// answer is that card's); every other failure did nothing, and gives the key back.
post_outcome refusal(payments::failure why, const not_done& words,
                     const std::string& decline_code) {
    using payments::failure;
    switch (why) {
        case failure::card_declined: {
            api_error declined{http::status::payment_required, error_type::card_error,
                               "card_declined", "The card was declined."};
            declined.decline_code = decline_code;
            return {declined, key_outcome::record};
        }
        case failure::processor_unavailable:
            return {processor_unavailable(std::string(words.processor_down)), key_outcome::release};
        case failure::unknown_processor_token:
            return {invalid_request("processor_token", "resource_missing",
                                    "The processor does not know this card token."),
                    key_outcome::release};
        case failure::processor_token_not_owned:
            return {token_not_owned(), key_outcome::release};
        case failure::too_many_cards:
            return {too_many_cards(), key_outcome::release};
        case failure::store_unavailable:
            return {store_failure(store::error::unavailable, words.nothing), key_outcome::release};
        case failure::store_busy:
            return {store_failure(store::error::busy, words.nothing), key_outcome::release};
    }
    return {store_failure(store::error::internal, words.nothing), key_outcome::release};
}

constexpr not_done nothing_charged{
    "nothing was charged", "The payment processor could not be reached; nothing was charged."};
constexpr not_done nothing_saved{"nothing was saved",
                                 "The payment processor could not be reached."};
constexpr not_done nothing_deleted{
    "nothing was deleted",
    "The payment processor could not be reached; the card is still saved. Try again."};

}  // namespace

model::stored_response payment_answers::render(const model::payment_record& p,
                                               const std::string& request_id) const {
    using model::payment_status;
    auto payment = payment_json(p);
    switch (p.status) {
        case payment_status::pending:
            return {202, json::serialize(payment)};
        case payment_status::declined:
        case payment_status::failed: {
            const bool declined = p.status == payment_status::declined;
            api_error refusal{http::status::payment_required, error_type::card_error,
                              declined ? "card_declined" : "processing_error",
                              declined ? "The card was declined."
                                       : "The payment could not be processed and nothing was "
                                         "charged. It is safe to try again with a new "
                                         "Idempotency-Key."};
            refusal.decline_code = p.decline_code.value_or("processing_error");
            refusal.details["payment"] = std::move(payment);
            return {402, render_body(refusal, request_id)};
        }
        default:
            return {201, json::serialize(payment)};
    }
}

payments_api::payments_api(const config::settings& settings, const api_clients& clients,
                           const idempotent_posts& posts, payments::payment_service& service,
                           finance::staff_reads& reads,
                           const tokenizer::fingerprinter& fingerprints,
                           const payment_answers& answers)
    : settings_(settings),
      clients_(clients),
      posts_(posts),
      service_(service),
      reads_(reads),
      fingerprints_(fingerprints),
      answers_(answers) {}

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

boost::system::result<std::string, api_error> payments_api::check_card(
    const tokenizer::card_data& card) const {
    if (auto problem = tokenizer::check_card(card, tokenizer::current_year_month())) {
        return invalid_request(std::string(problem->param), std::string(problem->code),
                               std::string(problem->message));
    }
    return fingerprints_.of_request_fields(card);
}

post_outcome payments_api::answer(const payments::pay_result& r, const request_context& ctx) const {
    switch (r.status) {
        case pay_status::succeeded:
        case pay_status::declined:
        case pay_status::failed:
        case pay_status::pending:
            // The same rendering as the answer the store keeps for the key.
            return {from_stored(answers_.render(*r.payment, ctx.request_id)), key_outcome::settled};
        case pay_status::refused:
            return refusal(r.why, nothing_charged, r.decline_code);
        case pay_status::no_such_payment_method:
            return {invalid_request("payment_method", "resource_missing",
                                    "No such payment method for this account."),
                    key_outcome::release};
        case pay_status::payment_method_unusable:
            return {invalid_request("payment_method", "payment_method_unusable",
                                    "This card was saved with another processor; save it again."),
                    key_outcome::release};
        case pay_status::possible_duplicate: {
            api_error refusal{http::status::conflict, error_type::invalid_request_error,
                              "possible_duplicate_payment",
                              "This bill was paid (or a payment of it is in progress) recently. "
                              "To pay it again, send the request with \"confirm_duplicate\": "
                              "true.",
                              "bill_id"};
            if (r.existing_payment) {
                refusal.details["payment"] = *r.existing_payment;
            }
            return {refusal, key_outcome::release};
        }
        case pay_status::key_lost:
            return {idempotency_key_in_use(), key_outcome::settled};
        case pay_status::open_not_written:
            // The store gave the key back itself, in the statement that learned nothing was
            // written.
            return {store_failure(store::error::unavailable), key_outcome::settled};
        case pay_status::outcome_unknown:
            return {outcome_unknown("payment_outcome_unknown", "payment", "charged"),
                    key_outcome::settled};
    }
    return {store_failure(store::error::internal), key_outcome::release};
}

asio::awaitable<api_result> payments_api::create_payment(request_context& ctx, request& req) {
    std::optional<payments::pay_request> pay;
    const idempotent_post post{
        {client_role::portal},
        "/v1/payments",
        "nothing was charged",
        [&](const api_client&) -> boost::system::result<std::string, api_error> {
            auto p = parse_payment_request(req.body());
            if (!p) {
                return p.error();
            }
            if (auto refused = service_.check(*p)) {
                return invalid_request(std::move(refused->param), std::move(refused->code),
                                       std::move(refused->message));
            }
            std::string card_fingerprint;
            if (p->card) {
                auto checked = check_card(*p->card);
                if (!checked) {
                    return checked.error();
                }
                card_fingerprint = *checked;
            } else if (p->processor_token) {
                card_fingerprint = "token:" + p->processor_token->canonical();
            } else {
                card_fingerprint = "pm:" + *p->payment_method;
            }
            pay.emplace(std::move(*p));
            return request_fingerprint(*pay, card_fingerprint);
        },
        [&](const api_client&, const model::key_lease& lease) -> asio::awaitable<post_outcome> {
            pay->request_id = ctx.request_id;
            pay->key = lease;
            auto result = co_await service_.pay(*pay);
            ctx.outcome = payments::to_string(result);
            if (result.payment) {
                ctx.payment_id = result.payment->id;
            }
            co_return answer(result, ctx);
        }};
    co_return co_await posts_.serve(ctx, req, post);
}

asio::awaitable<api_result> payments_api::get_payment(request_context& ctx, request& req) {
    auto client = clients_.caller(req, ctx, {client_role::portal, client_role::finance});
    if (!client) {
        co_return client.error();
    }
    auto account = ctx.query_value("account_number");
    if (client->role == client_role::portal && !account) {
        co_return account_required();
    }
    const std::string& id = ctx.path_params.at("id");
    auto found = co_await reads_.payment(reader_of(*client, ctx, account), id);
    if (!found) {
        co_return store_failure(found.error(), "nothing was shown");
    }
    if (!*found) {
        co_return not_found("No such payment.");
    }
    const model::payment_record& payment = **found;
    co_return json_response(http::status::ok, payment_json(payment));
}

asio::awaitable<api_result> payments_api::list_payments(request_context& ctx, request& req) {
    auto client = clients_.caller(req, ctx, {client_role::portal, client_role::finance});
    if (!client) {
        co_return client.error();
    }
    store::payment_filter filter;
    filter.account_number = ctx.query_value("account_number");
    if (client->role == client_role::portal && !filter.account_number) {
        co_return account_required();
    }
    for (const auto& [name, value] : ctx.query) {
        static constexpr std::string_view known[] = {
            "account_number", "limit",       "starting_after", "status",
            "created[gte]",   "created[lt]", "requires_review"};
        if (std::find(std::begin(known), std::end(known), name) == std::end(known)) {
            co_return invalid_request("", "parameter_unknown", "Unknown query parameter.");
        }
        bool finance_only =
            name == "created[gte]" || name == "created[lt]" || name == "requires_review";
        if (finance_only && client->role != client_role::finance) {
            co_return invalid_request(name, "parameter_unknown",
                                      "This filter is for the finance role.");
        }
    }
    if (auto limit = ctx.query_value("limit")) {
        int n = 0;
        auto [ptr, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), n);
        if (ec != std::errc{} || ptr != limit->data() + limit->size() || n < 1 || n > 100) {
            co_return invalid_request("limit", "parameter_invalid",
                                      "The limit must be a whole number from 1 to 100.");
        }
        filter.limit = n;
    }
    if (auto status = ctx.query_value("status")) {
        filter.status = model::parse_payment_status(*status);
        if (!filter.status) {
            co_return invalid_request("status", "parameter_invalid", "No such payment status.");
        }
    }
    if (auto review = ctx.query_value("requires_review")) {
        if (*review != "true" && *review != "false") {
            co_return invalid_request("requires_review", "parameter_invalid",
                                      "Use requires_review=true or false.");
        }
        filter.needs_review = *review == "true";
    }
    for (auto [name, slot] : {std::pair{"created[gte]", &filter.created_from},
                              std::pair{"created[lt]", &filter.created_to}}) {
        if (auto value = ctx.query_value(name)) {
            if (!valid_time(*value)) {
                co_return invalid_request(name, "parameter_invalid",
                                          "Use a date (2026-11-26) or an RFC 3339 time.");
            }
            *slot = *value;
        }
    }
    if (filter.account_number && !valid_account_number(*filter.account_number)) {
        co_return invalid_request("account_number", "parameter_invalid",
                                  "The account number must be 1 to 32 letters, digits or "
                                  "dashes.");
    }
    filter.starting_after = ctx.query_value("starting_after");

    json::object asked;
    for (const auto& [name, value] : ctx.query) {
        asked[name] = value;
    }
    auto page =
        co_await reads_.payments(reader_of(*client, ctx, filter.account_number), filter, asked);
    if (!page) {
        switch (page.error()) {
            case store::error::not_found:
                co_return invalid_request("starting_after", "resource_missing",
                                          "No such payment to start after.");
            case store::error::invalid_argument:
                co_return invalid_request("created", "parameter_invalid",
                                          "That is not a valid time.");
            default:
                co_return store_failure(page.error(), "nothing was shown");
        }
    }
    json::array data;
    for (const auto& p : page->payments) {
        data.push_back(payment_json(p));
    }
    co_return json_response(http::status::ok, json::object{{"object", "list"},
                                                           {"data", std::move(data)},
                                                           {"has_more", page->has_more},
                                                           {"url", "/v1/payments"}});
}

asio::awaitable<api_result> payments_api::create_payment_method(request_context& ctx,
                                                                request& req) {
    std::optional<payments::save_card_request> save;
    const idempotent_post post{
        {client_role::portal},
        "/v1/payment_methods",
        "nothing was saved",
        [&](const api_client&) -> boost::system::result<std::string, api_error> {
            auto p = parse_payment_method_request(req.body());
            if (!p) {
                return p.error();
            }
            std::string fingerprint_input = p->account_number + "\n";
            if (p->card) {
                auto checked = check_card(*p->card);
                if (!checked) {
                    return checked.error();
                }
                fingerprint_input += *checked;
            } else {
                fingerprint_input += "token:" + p->processor_token->canonical();
            }
            payments::pay_request for_fingerprint;
            for_fingerprint.account_number = p->account_number;
            save.emplace(std::move(*p));
            return request_fingerprint(for_fingerprint, fingerprint_input);
        },
        [&](const api_client& client, const model::key_lease&) -> asio::awaitable<post_outcome> {
            save->request_id = ctx.request_id;
            save->client_id = client.id;
            auto saved = co_await service_.save_card(*save);
            switch (saved.status) {
                case payments::save_status::saved:
                    co_return post_outcome{
                        json_response(http::status::created, payment_method_json(*saved.method)),
                        key_outcome::record};
                case payments::save_status::already_saved:
                    co_return post_outcome{
                        json_response(http::status::ok, payment_method_json(*saved.method)),
                        key_outcome::record};
                case payments::save_status::refused:
                    break;
            }
            co_return refusal(saved.why, nothing_saved, saved.decline_code);
        }};
    co_return co_await posts_.serve(ctx, req, post);
}

asio::awaitable<api_result> payments_api::list_payment_methods(request_context& ctx, request& req) {
    auto client = clients_.caller(req, ctx, {client_role::portal, client_role::finance});
    if (!client) {
        co_return client.error();
    }
    auto account = ctx.query_value("account_number");
    if (!account || !valid_account_number(*account)) {
        co_return invalid_request("account_number",
                                  account ? "parameter_invalid" : "parameter_missing",
                                  "Name the customer's account_number.");
    }
    auto methods = co_await reads_.payment_methods(reader_of(*client, ctx, account), *account);
    if (!methods) {
        co_return store_failure(methods.error(), "nothing was shown");
    }
    json::array data;
    for (const auto& m : *methods) {
        data.push_back(payment_method_json(m));
    }
    co_return json_response(http::status::ok, json::object{{"object", "list"},
                                                           {"data", std::move(data)},
                                                           {"has_more", false},
                                                           {"url", "/v1/payment_methods"}});
}

asio::awaitable<api_result> payments_api::delete_payment_method(request_context& ctx,
                                                                request& req) {
    auto client = clients_.caller(req, ctx, {client_role::portal});
    if (!client) {
        co_return client.error();
    }
    auto account = ctx.query_value("account_number");
    if (!account) {
        co_return invalid_request("account_number", "parameter_missing",
                                  "Name the customer's account_number.");
    }
    const std::string id = ctx.path_params.at("id");
    const auto deleted = co_await service_.delete_card(*account, id);
    switch (deleted.status) {
        case payments::delete_status::deleted:
            co_return json_response(
                http::status::ok,
                json::object{{"id", id}, {"object", "payment_method"}, {"deleted", true}});
        case payments::delete_status::not_found:
            co_return not_found("No such payment method.");
        case payments::delete_status::refused:
            break;
    }
    co_return refusal(deleted.why, nothing_deleted, "").answer;
}

}  // namespace billpay::daemon
