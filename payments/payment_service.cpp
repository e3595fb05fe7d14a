#include "payments/payment_service.hpp"

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <stdexcept>

#include "correspondence/messages.hpp"
#include "correspondence/notices.hpp"
#include "logging/log.hpp"
#include "metrics/metrics.hpp"
#include "model/ids.hpp"
#include "model/time.hpp"
#include "payments/outcomes.hpp"

namespace billpay::payments {
namespace {

namespace asio = boost::asio;

std::string now_rfc3339() { return model::rfc3339_utc(std::chrono::system_clock::now()); }

/// A payment refused for one of the shared failures.
pay_result refused(failure why) {
    pay_result out;
    out.status = pay_status::refused;
    out.why = why;
    return out;
}

}  // namespace

void throw_exception_from_error(const pay_result& ended, const boost::source_location&) {
    throw std::logic_error("a payment that ended (" + std::string(to_string(ended)) +
                           ") was taken for one that goes on");
}

std::string_view to_string(const pay_result& result) noexcept {
    switch (result.status) {
        case pay_status::succeeded:
            return "succeeded";
        case pay_status::declined:
            return "declined";
        case pay_status::failed:
            return "failed";
        case pay_status::pending:
            return "pending";
        case pay_status::refused:
            return to_string(result.why);
        case pay_status::no_such_payment_method:
            return "no_such_payment_method";
        case pay_status::payment_method_unusable:
            return "payment_method_unusable";
        case pay_status::possible_duplicate:
            return "possible_duplicate";
        case pay_status::key_lost:
            return "key_lost";
        case pay_status::open_not_written:
            return "open_not_written";
        case pay_status::outcome_unknown:
            return "outcome_unknown";
    }
    return "store_unavailable";
}

gateway::charge_request charge_request_for(const model::payment_record& p,
                                           const tokenizer::fingerprinter& fingerprints) {
    return {p.processor_token, p.amount, p.id,
            "Utility bill payment " + fingerprints.of_account(p.account_number), p.created_at};
}

asio::awaitable<void> discard_spare_token(gateway::gateway& processor,
                                          const model::payment_record& p, gateway::deadline by) {
    const bool final = p.status != model::payment_status::pending;
    if (!final || !p.token_owned || p.payment_method_id) {
        co_return;  // still needed, one the processor already held, or a saved card's
    }
    auto discarded = co_await processor.discard_token(p.processor_token, by);
    if (discarded.result != gateway::outcome::approved &&
        discarded.result != gateway::outcome::declined) {  // declined: gone already
        logging::warn("could not forget a one-payment card at the processor",
                      {{"payment_id", p.id}, {"processor_message", discarded.message}});
    }
}

asio::awaitable<void> payment_service::discard_if_spare(const model::payment_record& payment) {
    co_await discard_spare_token(processor_, payment, processor_deadline());
}

payment_service::payment_service(const config::settings& settings, store::payment_store& store,
                                 gateway::gateway& processor,
                                 const tokenizer::fingerprinter& fingerprints,
                                 const answer_renderer& answers)
    : settings_(settings),
      store_(store),
      processor_(processor),
      fingerprints_(fingerprints),
      answers_(answers) {}

gateway::deadline payment_service::processor_deadline() const {
    return std::chrono::steady_clock::now() + settings_.gateway.timeout;
}

model::card_record payment_service::card_from_token(
    const gateway::token_description& described) const {
    auto brand = tokenizer::parse_card_brand(described.brand);
    // The processor's card fingerprint is keyed again: stored, it means nothing elsewhere.
    const std::string& seen =
        described.processor_fingerprint.empty() ? described.token : described.processor_fingerprint;
    return model::card_record{
        brand ? std::string(tokenizer::to_string(*brand)) : std::string("unknown"), described.last4,
        described.exp_month, described.exp_year,
        fingerprints_.of_processor_fingerprint(processor_.name(), seen)};
}

std::optional<refusal> currency_refusal(const config::payments_settings& rules,
                                        const std::string& currency) {
    const auto& allowed = rules.currencies;
    if (!model::currency::parse(currency) ||
        std::find(allowed.begin(), allowed.end(), currency) == allowed.end()) {
        return refusal{"currency", "currency_not_supported",
                       "This utility does not accept payments in that currency."};
    }
    return std::nullopt;
}

std::optional<refusal> amount_refusal(const config::payments_settings& rules, std::int64_t amount) {
    if (amount < rules.min_amount) {
        return refusal{"amount", "amount_too_small",
                       "The amount is below the smallest payment accepted (" +
                           std::to_string(rules.min_amount) + ")."};
    }
    if (amount > rules.max_amount) {
        return refusal{"amount", "amount_too_large",
                       "The amount is above the largest payment accepted (" +
                           std::to_string(rules.max_amount) + ")."};
    }
    return std::nullopt;
}

std::optional<refusal> payment_service::check(const pay_request& request) const {
    const auto& rules = settings_.payments;
    if (auto refused = currency_refusal(rules, request.currency)) {
        return refused;
    }
    if (auto refused = amount_refusal(rules, request.amount)) {
        return refused;
    }
    const auto& keys = rules.metadata_keys;
    for (const auto& [key, value] : request.metadata) {
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
            // The key given is not named back: it may be free text.
            std::string allowed_keys;
            for (const auto& k : keys) {
                allowed_keys += (allowed_keys.empty() ? "" : ", ") + k;
            }
            return refusal{"metadata", "metadata_key_not_allowed",
                           "Metadata may carry only these keys (payments.metadata_keys): " +
                               (allowed_keys.empty() ? std::string("none") : allowed_keys) + "."};
        }
    }
    return std::nullopt;
}

asio::awaitable<pay_result> payment_service::pay(pay_request& request) {
    // 1. The card, as a token the processor can charge (a spare token moves no money).
    auto card = co_await token_for(request);
    if (!card) {
        co_return card.error();
    }
    // 2. OPEN: the pending payment is durable, and tied to its key, before any money moves.
    auto pending = co_await open(request, std::move(*card));
    if (!pending) {
        co_return pending.error();
    }
    // 3. The charge, under the payment's id: the processor never charges one id twice.
    model::payment_outcome outcome = co_await charge(request, *pending);
    // 4. FINISH: the outcome (or "pending"), the answer its key replays, and its receipt.
    co_return co_await finish(request, *pending, outcome);
}

asio::awaitable<payment_service::step<model::payment_record>> payment_service::token_for(
    pay_request& request) {
    pay_result out;
    const std::string customer_reference = fingerprints_.of_account(request.account_number);
    // A card to be saved goes with the account's customer; any other, for this payment alone.
    const gateway::token_use use = request.save_payment_method ? gateway::token_use::saved_card
                                                               : gateway::token_use::one_payment;
    model::payment_record p;
    if (request.card) {
        auto summary = fingerprints_.describe(*request.card);
        p.card = model::card_record{std::string(tokenizer::to_string(summary.brand)), summary.last4,
                                    summary.exp_month, summary.exp_year, summary.fingerprint};
        auto tokenized = co_await processor_.tokenize(*request.card, customer_reference, use,
                                                      processor_deadline());
        request.card->wipe();  // the card is not needed again: only its token
        if (tokenized.result != gateway::outcome::approved) {
            logging::warn("tokenize refused", {{"request_id", request.request_id},
                                               {"outcome", gateway::to_string(tokenized.result)},
                                               {"decline_code", tokenized.decline_code}});
            out = refused(failure_of(tokenized));
            out.decline_code = tokenized.decline_code;
            co_return out;
        }
        p.processor_token = tokenized.token;
        p.token_owned = !tokenized.reused;
    } else if (request.processor_token) {
        auto described = co_await processor_.adopt_token(
            *request.processor_token, customer_reference, use, processor_deadline());
        if (described.result != gateway::outcome::approved) {
            co_return refused(failure_of(described));
        }
        p.card = card_from_token(described);
        p.processor_token = described.token;
        // Made from the browser's token for this payment (an Authorize.Net payment profile),
        // unless the processor held it already; a Stripe.js pm_ is the portal's own.
        p.token_owned = !described.reused && described.token != request.processor_token->id;
    } else {
        auto method = co_await store_.find_payment_method(request.payment_method.value());
        if (!method) {
            co_return refused(failure_of(method.error()));
        }
        if (!*method || (*method)->account_number != request.account_number) {
            out.status = pay_status::no_such_payment_method;
            co_return out;
        }
        if ((*method)->processor != processor_.name()) {
            out.status = pay_status::payment_method_unusable;
            co_return out;
        }
        p.card = (*method)->card;
        p.payment_method_id = (*method)->id;
        p.processor_token = (*method)->processor_token;
    }
    co_return p;
}

asio::awaitable<payment_service::step<model::payment_record>> payment_service::open(
    const pay_request& request, model::payment_record p) {
    pay_result out;
    p.id = model::new_id("pay");
    p.client_id = request.key.client_id;
    p.account_number = request.account_number;
    p.bill_id = request.bill_id;
    // check() has held the currency to the utility's list: it parses.
    p.amount = {request.amount, model::currency::parse(request.currency).value()};
    p.confirmation = model::new_confirmation_code();
    p.processor = std::string(processor_.name());
    p.customer_name = request.payer.name;
    p.customer_email = request.payer.email;
    boost::json::object metadata;
    for (const auto& [k, v] : request.metadata) {
        metadata[k] = v;
    }
    p.metadata_json = boost::json::serialize(metadata);
    p.created_at = now_rfc3339();
    p.updated_at = p.created_at;
    store::open_request open{p, request.key, std::nullopt,
                             config::charge_window(settings_.gateway)};
    // A window of 0 minutes turns the duplicate-bill guard off: no lock, no lookup.
    if (request.bill_id && !request.confirm_duplicate &&
        settings_.payments.duplicate_window_minutes > 0) {
        open.guard =
            store::bill_guard{*request.bill_id, settings_.payments.duplicate_window_minutes};
    }
    auto opened = co_await store_.open(open);
    if (!opened && opened.error() == store::error::busy) {
        // It waited in the store's queue and never ran.
        logging::error("could not record a new payment: nothing was charged",
                       {{"request_id", request.request_id}, {"error", "busy"}});
        co_return refused(failure::store_busy);
    }
    if (!opened) {
        auto learned = co_await learn_lost_open(request, open, opened.error());
        if (!learned) {
            co_return learned.error();
        }
        opened = *learned;
    }
    if (opened->status != store::open_status::opened && p.token_owned) {
        co_await discard_unused_token(p, request.request_id);
    }
    switch (opened->status) {
        case store::open_status::opened:
            break;
        case store::open_status::possible_duplicate:
            out.status = pay_status::possible_duplicate;
            out.existing_payment = opened->existing_payment;
            co_return out;
        case store::open_status::lease_lost:
            logging::warn("the request lost its idempotency key before charging: nothing charged",
                          {{"request_id", request.request_id}});
            out.status = pay_status::key_lost;
            co_return out;
    }
    co_return opened->payment;
}

asio::awaitable<payment_service::step<store::open_result>> payment_service::learn_lost_open(
    const pay_request& request, const store::open_request& open, store::error failure) {
    // Its commit may stand (the connection broke after it, or the synchronous standby did not
    // confirm it): ask the key what it holds before saying anything.
    pay_result out;
    const model::payment_record& p = open.payment;
    auto settled = co_await store_.settle_lost_open(open);
    if (!settled) {
        logging::error(
            "could not learn whether a new payment was recorded: its outcome is "
            "unknown (recovery charges it if it was)",
            {{"request_id", request.request_id},
             {"payment_id", p.id},
             {"error", store::to_string(failure)}});
        out.status = pay_status::outcome_unknown;
        co_return out;
    }
    logging::warn("recording a new payment failed; learned afterwards what it did",
                  {{"request_id", request.request_id},
                   {"payment_id", p.id},
                   {"error", store::to_string(failure)},
                   {"recorded", *settled == store::lost_open::opened}});
    switch (*settled) {
        case store::lost_open::opened:
            co_return store::open_result{store::open_status::opened, store::as_opened(p), {}};
        case store::lost_open::lease_lost:
            co_return store::open_result{store::open_status::lease_lost, {}, {}};
        case store::lost_open::not_opened:
            break;
    }
    if (p.token_owned) {
        co_await discard_unused_token(p, request.request_id);
    }
    out.status = pay_status::open_not_written;
    co_return out;
}

asio::awaitable<model::payment_outcome> payment_service::charge(
    const pay_request& request, const model::payment_record& pending) {
    const gateway::charge_request charge = charge_request_for(pending, fingerprints_);
    auto charged = co_await processor_.charge(charge, processor_deadline());
    // The request's access line (info) carries the payment id and outcome; this is the detail.
    logging::debug("charge", {{"request_id", request.request_id},
                              {"payment_id", pending.id},
                              {"outcome", gateway::to_string(charged.result)},
                              {"amount", pending.amount.minor_units},
                              {"currency", pending.amount.unit.code()},
                              {"decline_code", charged.decline_code}});
    model::payment_outcome outcome = outcome_of(charged);
    outcome.updated_at = now_rfc3339();

    // A card typed (or tokenized in the browser) for this payment is kept if asked and paid.
    const bool new_card = !request.payment_method.has_value();
    if (outcome.status == model::payment_status::succeeded && request.save_payment_method &&
        new_card) {
        const model::payment_method_record m{model::new_id("pm"),
                                             pending.client_id,
                                             pending.account_number,
                                             pending.processor,
                                             pending.processor_token,
                                             pending.card,
                                             ""};
        auto saved = co_await store_.save_payment_method(m);
        if (saved) {
            outcome.payment_method_id = saved->method.id;
        } else {
            // The payment stands; only the card is not kept. Said in the log, not hidden.
            logging::error("a paid card could not be saved",
                           {{"request_id", request.request_id},
                            {"payment_id", pending.id},
                            {"error", store::to_string(saved.error())}});
        }
    }
    co_return outcome;
}

asio::awaitable<pay_result> payment_service::finish(const pay_request& request,
                                                    const model::payment_record& pending,
                                                    const model::payment_outcome& outcome) {
    pay_result out;
    const model::payment_record finished = model::with_outcome(pending, outcome);
    const store::finish_request finish{pending, outcome,
                                       answers_.render(finished, request.request_id),
                                       correspondence::render_payment_message(finished)};
    auto written = co_await store_.finish(finish);
    if (!written) {
        // The processor answered but the answer could not be written: the payment stays
        // pending (its key in flight), and the recovery worker learns the outcome again.
        logging::error("could not record a payment's outcome; recovery will",
                       {{"request_id", request.request_id},
                        {"payment_id", pending.id},
                        {"error", store::to_string(written.error())}});
        out.status = pay_status::pending;
        out.payment = pending;
        co_return out;
    }
    out.payment = *written;
    metrics::process().payments.add({std::string(model::to_string(written->status)), "request"});
    co_await discard_if_spare(*written);
    switch (written->status) {
        case model::payment_status::pending:
            out.status = pay_status::pending;
            break;
        case model::payment_status::declined:
            out.status = pay_status::declined;
            break;
        case model::payment_status::failed:
            out.status = pay_status::failed;
            break;
        default:
            out.status = pay_status::succeeded;  // or refunded since, by a peer's answer
            break;
    }
    co_return out;
}

asio::awaitable<void> payment_service::discard_unused_token(const model::payment_record& p,
                                                            const std::string& request_id) {
    // Refused before any payment was written: a token made for it is nobody's. Left at the
    // processor it would count against the customer (Authorize.Net: ten profiles).
    auto discarded = co_await processor_.discard_token(p.processor_token, processor_deadline());
    if (discarded.result != gateway::outcome::approved &&
        discarded.result != gateway::outcome::declined) {
        logging::warn("could not forget the card of a payment refused before it began",
                      {{"request_id", request_id}, {"processor_message", discarded.message}});
    }
}

asio::awaitable<save_result> payment_service::save_card(save_card_request& request) {
    save_result out;
    const std::string customer_reference = fingerprints_.of_account(request.account_number);
    gateway::tokenize_result tokenized;
    model::card_record card;
    if (request.card) {
        auto summary = fingerprints_.describe(*request.card);
        card = model::card_record{std::string(tokenizer::to_string(summary.brand)), summary.last4,
                                  summary.exp_month, summary.exp_year, summary.fingerprint};
        tokenized =
            co_await processor_.tokenize(*request.card, customer_reference,
                                         gateway::token_use::saved_card, processor_deadline());
        request.card->wipe();
    } else {
        // Made in the customer's browser: the processor tells what card it is.
        auto described =
            co_await processor_.adopt_token(request.processor_token.value(), customer_reference,
                                            gateway::token_use::saved_card, processor_deadline());
        if (described.result != gateway::outcome::approved) {
            out.why = failure_of(described);
            co_return out;
        }
        card = card_from_token(described);
        tokenized.result = gateway::outcome::approved;
        tokenized.token = described.token;
        tokenized.reused = described.reused;
    }
    if (tokenized.result != gateway::outcome::approved) {
        out.why = failure_of(tokenized);
        out.decline_code = tokenized.decline_code;
        co_return out;
    }
    // A token billpayd made just now may be deleted if it is not kept; one the portal made
    // (Stripe.js), or one the processor already held for this card, may not.
    const bool spare = !tokenized.reused &&
                       (request.card.has_value() || tokenized.token != request.processor_token->id);
    const model::payment_method_record m{model::new_id("pm"),
                                         request.client_id,
                                         request.account_number,
                                         std::string(processor_.name()),
                                         tokenized.token,
                                         card,
                                         ""};
    auto saved = co_await store_.save_payment_method(m);
    if (!saved) {
        logging::error(
            "could not save a payment method",
            {{"request_id", request.request_id}, {"error", store::to_string(saved.error())}});
        if (spare) {
            co_await processor_.delete_token(tokenized.token, processor_deadline());
        }
        out.why = failure_of(saved.error());
        co_return out;
    }
    if (!saved->created && spare && tokenized.token != saved->method.processor_token) {
        // The account already has this card: keep one token at the processor.
        co_await processor_.delete_token(tokenized.token, processor_deadline());
    }
    out.status = saved->created ? save_status::saved : save_status::already_saved;
    out.method = saved->method;
    co_return out;
}

asio::awaitable<delete_result> payment_service::delete_card(const std::string& account_number,
                                                            const std::string& payment_method_id) {
    auto method = co_await store_.find_payment_method(payment_method_id);
    if (!method) {
        co_return delete_result{delete_status::refused, failure_of(method.error())};
    }
    if (!*method || (*method)->account_number != account_number) {
        co_return delete_result{delete_status::not_found};
    }
    auto deleted =
        co_await processor_.delete_token((*method)->processor_token, processor_deadline());
    // `declined`: the processor has no such token any more, which is what was asked.
    if (deleted.result == gateway::outcome::failed || deleted.result == gateway::outcome::unknown) {
        logging::warn("the processor did not forget a saved card; it stays saved",
                      {{"payment_method_id", payment_method_id}, {"error", deleted.message}});
        co_return delete_result{delete_status::refused, failure::processor_unavailable};
    }
    auto gone = co_await store_.delete_payment_method(
        payment_method_id, [](const model::autopay_enrollment& ended, const std::string& brand,
                              const std::string& last4) {
            return correspondence::render_autopay_ended(ended, {brand, last4});
        });
    if (!gone) {
        co_return delete_result{delete_status::refused, failure_of(gone.error())};
    }
    co_return delete_result{delete_status::deleted};
}

}  // namespace billpay::payments
