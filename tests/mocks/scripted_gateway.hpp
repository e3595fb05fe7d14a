#pragma once

#include <functional>

#include "gateway_adapters/gateway.hpp"

namespace billpay::test {

/// A gateway::gateway whose answers a test scripts, call by call, and which counts the calls.
/// (The interface returns coroutines, which gmock cannot make; this plays its part.) Unscripted
/// calls answer `failed`.
class scripted_gateway final : public gateway::gateway {
  public:
    std::function<::billpay::gateway::lookup_result(const ::billpay::gateway::charge_request&)>
        on_lookup;
    std::function<::billpay::gateway::charge_result(const ::billpay::gateway::charge_request&)>
        on_charge;
    int lookups = 0;
    int charges = 0;

    [[nodiscard]] std::string_view name() const noexcept override { return "scripted"; }

    boost::asio::awaitable<::billpay::gateway::tokenize_result> tokenize(
        const tokenizer::card_data&, const std::string&, ::billpay::gateway::deadline) override {
        co_return ::billpay::gateway::tokenize_result{};
    }
    boost::asio::awaitable<::billpay::gateway::charge_result> charge(
        const ::billpay::gateway::charge_request& r, ::billpay::gateway::deadline) override {
        ++charges;
        co_return on_charge ? on_charge(r) : ::billpay::gateway::charge_result{};
    }
    boost::asio::awaitable<::billpay::gateway::lookup_result> lookup(
        const ::billpay::gateway::charge_request& r, ::billpay::gateway::deadline) override {
        ++lookups;
        co_return on_lookup ? on_lookup(r) : ::billpay::gateway::lookup_result{};
    }
    boost::asio::awaitable<::billpay::gateway::refund_result> refund(
        const ::billpay::gateway::refund_request&, ::billpay::gateway::deadline) override {
        co_return ::billpay::gateway::refund_result{};
    }
    boost::asio::awaitable<::billpay::gateway::refund_result> void_charge(
        const ::billpay::gateway::refund_request&, ::billpay::gateway::deadline) override {
        co_return ::billpay::gateway::refund_result{};
    }
    boost::asio::awaitable<::billpay::gateway::delete_result> delete_token(
        const std::string&, ::billpay::gateway::deadline) override {
        co_return ::billpay::gateway::delete_result{};
    }
    boost::asio::awaitable<::billpay::gateway::token_description> adopt_token(
        const ::billpay::gateway::browser_token&, const std::string&,
        ::billpay::gateway::deadline) override {
        co_return ::billpay::gateway::token_description{};
    }
};

}  // namespace billpay::test
