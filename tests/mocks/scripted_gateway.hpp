#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gateway_adapters/gateway.hpp"

namespace billpay::test {

/// A gateway::gateway whose answers a test scripts, call by call, and which counts the calls.
/// (The interface returns coroutines, which gmock cannot make; this plays its part.) Unscripted
/// calls answer: tokenize approved with a fresh token, charge and lookup `unknown` (a script
/// that forgets an answer must not look like a decision), refund `unknown`, delete approved,
/// adopt declined.
class scripted_gateway final : public gateway::gateway {
  public:
    using tokenize_result = ::billpay::gateway::tokenize_result;
    using charge_request = ::billpay::gateway::charge_request;
    using charge_result = ::billpay::gateway::charge_result;
    using refund_request = ::billpay::gateway::refund_request;
    using refund_result = ::billpay::gateway::refund_result;
    using delete_result = ::billpay::gateway::delete_result;
    using token_description = ::billpay::gateway::token_description;
    using browser_token = ::billpay::gateway::browser_token;
    using outcome = ::billpay::gateway::outcome;

    explicit scripted_gateway(std::string name = "scripted") : name_(std::move(name)) {}

    std::function<tokenize_result()> on_tokenize;
    std::function<charge_result(const charge_request&)> on_charge;
    std::function<charge_result(const charge_request&)> on_lookup;
    std::function<refund_result(const refund_request&)> on_refund;
    std::function<token_description(const browser_token&)> on_adopt;
    int tokenizes = 0;
    int charges = 0;
    int lookups = 0;
    int refunds = 0;
    int deletes = 0;
    std::vector<std::string> discarded;
    /// Whether the card was still readable when tokenize was called (the use case wipes it
    /// only afterwards), and its last four digits then.
    std::string last4_seen;

    [[nodiscard]] std::string_view name() const noexcept override { return name_; }

    std::vector<::billpay::gateway::token_use> uses;  // of each tokenize and adopt_token

    boost::asio::awaitable<tokenize_result> tokenize(const tokenizer::card_data& card,
                                                     const std::string&,
                                                     ::billpay::gateway::token_use use,
                                                     ::billpay::gateway::deadline) override {
        ++tokenizes;
        uses.push_back(use);
        auto number = card.number();
        last4_seen = number.size() >= 4 ? std::string(number.substr(number.size() - 4)) : "";
        if (on_tokenize) {
            co_return on_tokenize();
        }
        co_return tokenize_result{outcome::approved, "tok_" + std::to_string(tokenizes), "", ""};
    }
    boost::asio::awaitable<charge_result> charge(const charge_request& r,
                                                 ::billpay::gateway::deadline) override {
        ++charges;
        co_return on_charge ? on_charge(r) : charge_result{outcome::unknown, "", "", "unscripted"};
    }
    boost::asio::awaitable<charge_result> lookup(const charge_request& r,
                                                 ::billpay::gateway::deadline) override {
        ++lookups;
        co_return on_lookup ? on_lookup(r) : charge_result{outcome::unknown, "", "", "unscripted"};
    }
    boost::asio::awaitable<refund_result> refund(const refund_request& r,
                                                 ::billpay::gateway::deadline) override {
        ++refunds;
        co_return on_refund ? on_refund(r) : refund_result{outcome::unknown, "", "", "unscripted"};
    }
    boost::asio::awaitable<refund_result> void_charge(const refund_request& r,
                                                      ::billpay::gateway::deadline by) override {
        co_return co_await refund(r, by);
    }
    boost::asio::awaitable<delete_result> delete_token(const std::string&,
                                                       ::billpay::gateway::deadline) override {
        ++deletes;
        co_return delete_result{outcome::approved, ""};
    }
    boost::asio::awaitable<delete_result> discard_token(const std::string& token,
                                                        ::billpay::gateway::deadline) override {
        discarded.push_back(token);
        co_return delete_result{outcome::approved, ""};
    }
    boost::asio::awaitable<token_description> adopt_token(const browser_token& token,
                                                          const std::string&,
                                                          ::billpay::gateway::token_use use,
                                                          ::billpay::gateway::deadline) override {
        uses.push_back(use);
        if (on_adopt) {
            co_return on_adopt(token);
        }
        token_description refused;
        refused.result = outcome::declined;
        co_return refused;
    }

    /// Customer records (Authorize.Net's customer profiles): the list, which record each token
    /// lives in, and each deletion's answer (unscripted: approved).
    std::function<::billpay::gateway::customer_list()> on_list_customers;
    std::map<std::string, std::string> customer_of_token;
    std::function<delete_result(const std::string&)> on_forget_customer;
    std::vector<std::string> forgotten_customers;

    boost::asio::awaitable<::billpay::gateway::customer_list> list_customers(
        ::billpay::gateway::deadline) override {
        if (on_list_customers) {
            co_return on_list_customers();
        }
        co_return ::billpay::gateway::customer_list{outcome::approved, {}, ""};
    }
    [[nodiscard]] std::optional<std::string> customer_of(const std::string& token) const override {
        auto found = customer_of_token.find(token);
        if (found == customer_of_token.end()) {
            return std::nullopt;
        }
        return found->second;
    }
    boost::asio::awaitable<delete_result> forget_customer(const std::string& id,
                                                          ::billpay::gateway::deadline) override {
        forgotten_customers.push_back(id);
        if (on_forget_customer) {
            co_return on_forget_customer(id);
        }
        co_return delete_result{outcome::approved, ""};
    }

  private:
    std::string name_;
};

}  // namespace billpay::test
