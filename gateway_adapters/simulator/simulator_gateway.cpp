#include "gateway_adapters/simulator/simulator_gateway.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "model/ids.hpp"
#include "tokenizer/card_checks.hpp"

namespace billpay::gateway::simulator {
namespace {

namespace asio = boost::asio;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// Stripe's test cards of the 4000 0000 0000 xxxx family, by their last four digits.
constexpr std::string_view test_family = "400000000000";

struct test_card {
    std::string_view last4;
    behaviour kind;
    std::string_view decline_code;
};

constexpr test_card test_cards[] = {
    {"0002", behaviour::decline, "generic_decline"},
    {"9995", behaviour::decline, "insufficient_funds"},
    {"0069", behaviour::decline, "expired_card"},
    {"0127", behaviour::decline, "incorrect_cvc"},
    {"9987", behaviour::decline, "lost_card"},
    {"9979", behaviour::decline, "stolen_card"},
    {"0119", behaviour::processing_error, "processing_error"},
    {"0259", behaviour::answer_lost, ""},
    {"1976", behaviour::never_answers, ""},
};

std::string behaviour_name(card_behaviour_result b) {
    switch (b.kind) {
        case behaviour::approve:
            return "approve";
        case behaviour::decline:
            return "decline:" + std::string(b.decline_code);
        case behaviour::processing_error:
            return "processing_error";
        case behaviour::answer_lost:
            return "answer_lost";
        case behaviour::never_answers:
            return "never_answers";
    }
    return "approve";
}

asio::awaitable<void> sleep_until(deadline by) {
    asio::steady_timer timer(co_await asio::this_coro::executor, by);
    co_await timer.async_wait(use_nothrow);
}

}  // namespace

card_behaviour_result card_behaviour(std::string_view number) noexcept {
    if (number.size() == 16 && number.starts_with(test_family)) {
        for (const auto& card : test_cards) {
            if (number.substr(12) == card.last4) {
                return {card.kind, card.decline_code};
            }
        }
    }
    return {behaviour::approve, ""};
}

simulator_gateway::simulator_gateway(const config::simulator_settings& settings)
    : settings_(settings), ledger_(settings.ledger) {}

asio::awaitable<bool> simulator_gateway::wait_latency(deadline by) {
    auto done_at = std::chrono::steady_clock::now() + settings_.latency;
    if (done_at > by) {
        co_await sleep_until(by);
        co_return false;
    }
    if (settings_.latency.count() > 0) {
        co_await sleep_until(done_at);
    }
    co_return true;
}

asio::awaitable<tokenize_result> simulator_gateway::tokenize(const tokenizer::card_data& card,
                                                             const std::string&, token_use,
                                                             deadline by) {
    // Everything needed from the card is taken now, before the first suspension: the caller
    // wipes it as soon as this returns.
    auto behaviour = behaviour_name(card_behaviour(card.number()));
    auto brand = tokenizer::brand_of(card.number());
    std::string last4(card.number().substr(card.number().size() - 4));
    std::string token = model::new_id("sim_tok");
    if (!co_await wait_latency(by)) {
        co_return tokenize_result{outcome::failed, "", "processing_error",
                                  "the simulator did not answer in time"};
    }
    try {
        const token_row row{
            token, behaviour,
            std::string(tokenizer::to_string(brand.value_or(tokenizer::card_brand::visa))), last4};
        co_await ledger_.save_token(row);
    } catch (const std::exception& e) {
        co_return tokenize_result{outcome::failed, "", "processing_error", e.what()};
    }
    co_return tokenize_result{outcome::approved, token, "", ""};
}

asio::awaitable<charge_result> simulator_gateway::charge(const charge_request& request,
                                                         deadline by) {
    std::optional<token_row> token;
    try {
        token = co_await ledger_.find_token(request.token);
    } catch (const std::exception& e) {
        co_return charge_result{outcome::failed, "", "processing_error", e.what()};
    }
    if (!token) {
        co_return charge_result{outcome::declined, "", "invalid_token", "no such token"};
    }
    const std::string& behaviour = token->behaviour;
    std::string result = "approved";
    std::string decline_code;
    if (behaviour.starts_with("decline:")) {
        result = "declined";
        decline_code = behaviour.substr(8);
    } else if (behaviour == "processing_error") {
        // The processor failed before charging: nothing is recorded, a retry may succeed.
        if (!co_await wait_latency(by)) {
            co_return charge_result{outcome::unknown, "", "", "no answer before the deadline"};
        }
        co_return charge_result{outcome::failed, "", "processing_error",
                                "the processor could not process the charge"};
    }
    charge_row row;
    try {
        const charge_row proposed{request.idempotency_key,
                                  "",
                                  request.token,
                                  request.amount.minor_units,
                                  std::string(request.amount.unit.code()),
                                  result,
                                  decline_code};
        row = co_await ledger_.record_charge(proposed);
    } catch (const std::exception& e) {
        co_return charge_result{outcome::unknown, "", "", e.what()};
    }
    if (behaviour == "answer_lost" || behaviour == "never_answers") {
        co_await sleep_until(by);
        co_return charge_result{outcome::unknown, "", "", "no answer before the deadline"};
    }
    if (!co_await wait_latency(by)) {
        co_return charge_result{outcome::unknown, "", "", "no answer before the deadline"};
    }
    if (row.outcome == "approved") {
        co_return charge_result{outcome::approved, row.reference, "", ""};
    }
    co_return charge_result{outcome::declined, row.reference, row.decline_code,
                            "the card was declined"};
}

asio::awaitable<charge_result> simulator_gateway::lookup(const charge_request& request,
                                                         deadline by) {
    std::optional<token_row> token;
    std::optional<charge_row> row;
    try {
        token = co_await ledger_.find_token(request.token);
        row = co_await ledger_.find_charge(request.idempotency_key);
    } catch (const std::exception& e) {
        co_return charge_result{outcome::unknown, "", "", e.what()};
    }
    if (token && token->behaviour == "never_answers") {
        co_await sleep_until(by);
        co_return charge_result{outcome::unknown, "", "", "no answer before the deadline"};
    }
    if (!co_await wait_latency(by)) {
        co_return charge_result{outcome::unknown, "", "", "no answer before the deadline"};
    }
    if (!row) {
        // The ledger is the simulator's whole memory: no charge under our key, and none coming.
        co_return charge_result{outcome::failed, "", "", "no charge under this key"};
    }
    auto o = row->outcome == "approved" ? outcome::approved : outcome::declined;
    co_return charge_result{o, row->reference, row->decline_code, ""};
}

asio::awaitable<refund_result> simulator_gateway::reverse(const refund_request& request,
                                                          deadline by, std::string_view kind) {
    if (!co_await wait_latency(by)) {
        co_return refund_result{outcome::unknown, "", "", "no answer before the deadline"};
    }
    try {
        const refund_row proposed{request.idempotency_key, "", request.processor_reference,
                                  request.amount.minor_units, std::string(kind)};
        auto row = co_await ledger_.record_refund(proposed);
        if (!row) {
            co_return refund_result{outcome::declined, "", "amount_too_large",
                                    "more than what remains of the charge"};
        }
        co_return refund_result{outcome::approved, row->reference, "", ""};
    } catch (const std::exception& e) {
        co_return refund_result{outcome::unknown, "", "", e.what()};
    }
}

asio::awaitable<refund_result> simulator_gateway::refund(const refund_request& request,
                                                         deadline by) {
    co_return co_await reverse(request, by, "refund");
}

asio::awaitable<refund_result> simulator_gateway::void_charge(const refund_request& request,
                                                              deadline by) {
    co_return co_await reverse(request, by, "void");
}

asio::awaitable<delete_result> simulator_gateway::delete_token(const std::string& token,
                                                               deadline by) {
    if (!co_await wait_latency(by)) {
        co_return delete_result{outcome::unknown, "no answer before the deadline"};
    }
    try {
        bool deleted = co_await ledger_.delete_token(token);
        co_return delete_result{deleted ? outcome::approved : outcome::declined, ""};
    } catch (const std::exception& e) {
        co_return delete_result{outcome::failed, e.what()};
    }
}

asio::awaitable<delete_result> simulator_gateway::discard_token(const std::string&, deadline) {
    co_return delete_result{outcome::approved, ""};
}

asio::awaitable<token_description> simulator_gateway::adopt_token(const browser_token&,
                                                                  const std::string&, token_use,
                                                                  deadline) {
    token_description refused;
    refused.result = outcome::declined;
    refused.message = "the simulator makes no browser tokens";
    co_return refused;
}

}  // namespace billpay::gateway::simulator
