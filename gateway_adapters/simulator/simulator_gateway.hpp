#pragma once

#include <string_view>

#include "config/settings.hpp"
#include "gateway_adapters/gateway.hpp"
#include "gateway_adapters/simulator/simulator_ledger.hpp"

namespace billpay::gateway::simulator {

/// What the simulator does with a card, chosen by its number: Stripe's test cards of the
/// 4000 0000 0000 xxxx family, by their last four digits (the full table, with the numbers, is
/// in docs/api.md; numbers stay out of the source so that a card-number scan of it stays clean).
enum class behaviour {
    approve,           // any valid number not listed below (Stripe's …4242 approves)
    decline,           // …0002, …9995, …0069, …0127, …9987, …9979: see card_behaviour()
    processing_error,  // …0119: the processor failed; nothing charged
    answer_lost,       // …0259: charged, but the answer never comes; lookup finds it
    never_answers,     // …1976: charged, and neither charge nor lookup ever answers
};

struct card_behaviour_result {
    behaviour kind;
    std::string_view decline_code;  // for decline
};

/// Declines: …0002 generic_decline, …9995 insufficient_funds, …0069 expired_card, …0127
/// incorrect_cvc, …9987 lost_card, …9979 stolen_card; the rest as in `behaviour`.
card_behaviour_result card_behaviour(std::string_view number) noexcept;

/// The default processor: in process, no network, deterministic by card number. Every call
/// takes `gateway.simulator.latency_ms`; a call whose deadline comes first answers unknown (or
/// failed, for calls that change nothing). It keeps its own ledger (tokens, charges, refunds) in
/// a file of its own (`gateway.simulator.ledger`, see simulator_ledger.hpp), as a real processor
/// would on its side, so tokens and charges outlive a restart and a lost answer can be looked
/// up. It honours idempotency keys as Stripe does: a repeated key returns the first charge.
class simulator_gateway final : public gateway {
  public:
    explicit simulator_gateway(const config::simulator_settings& settings);

    [[nodiscard]] std::string_view name() const noexcept override { return "simulator"; }
    boost::asio::awaitable<tokenize_result> tokenize(const tokenizer::card_data& card,
                                                     const std::string& customer_reference,
                                                     token_use use, deadline by) override;
    boost::asio::awaitable<charge_result> charge(const charge_request& request,
                                                 deadline by) override;
    boost::asio::awaitable<charge_result> lookup(const charge_request& request,
                                                 deadline by) override;
    boost::asio::awaitable<refund_result> refund(const refund_request& request,
                                                 deadline by) override;
    boost::asio::awaitable<refund_result> void_charge(const refund_request& request,
                                                      deadline by) override;
    boost::asio::awaitable<delete_result> delete_token(const std::string& token,
                                                       deadline by) override;
    /// Like Stripe, whose test cards it plays, the simulator keeps one-payment tokens: approved.
    boost::asio::awaitable<delete_result> discard_token(const std::string& token,
                                                        deadline by) override;
    /// The simulator makes no browser tokens: always declined.
    boost::asio::awaitable<token_description> adopt_token(const browser_token& token,
                                                          const std::string& customer_reference,
                                                          token_use use, deadline by) override;

  private:
    /// Waits the configured latency; false when the deadline comes first (it waits until then).
    boost::asio::awaitable<bool> wait_latency(deadline by);
    boost::asio::awaitable<refund_result> reverse(const refund_request& request, deadline by,
                                                  std::string_view kind);

    config::simulator_settings settings_;
    ledger ledger_;
};

}  // namespace billpay::gateway::simulator
