#include "gateway_adapters/metered_gateway.hpp"

#include <chrono>

#include "metrics/metrics.hpp"

namespace billpay::gateway {
namespace {

namespace asio = boost::asio;

/// Awaits one processor call and observes how long it took, labelled with the operation and
/// the outcome it answered. `call` is lazy: it starts when awaited here, and the arguments it
/// refers to are the caller's, who awaits this at once.
template <class Result>
asio::awaitable<Result> timed(const char* operation, asio::awaitable<Result> call) {
    const auto started = std::chrono::steady_clock::now();
    auto r = co_await std::move(call);
    metrics::process().processor_call_duration.observe(
        {operation, std::string(to_string(r.result))},
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    co_return r;
}

class metered_gateway final : public gateway {
  public:
    explicit metered_gateway(std::unique_ptr<gateway> inner) : inner_(std::move(inner)) {}

    [[nodiscard]] std::string_view name() const noexcept override { return inner_->name(); }

    asio::awaitable<tokenize_result> tokenize(const tokenizer::card_data& card,
                                              const std::string& customer_reference, token_use use,
                                              deadline by) override {
        return timed("tokenize", inner_->tokenize(card, customer_reference, use, by));
    }

    asio::awaitable<charge_result> charge(const charge_request& request, deadline by) override {
        return timed("charge", inner_->charge(request, by));
    }

    asio::awaitable<charge_result> lookup(const charge_request& request, deadline by) override {
        return timed("lookup", inner_->lookup(request, by));
    }

    asio::awaitable<refund_result> refund(const refund_request& request, deadline by) override {
        return timed("refund", inner_->refund(request, by));
    }

    asio::awaitable<refund_result> void_charge(const refund_request& request,
                                               deadline by) override {
        return timed("void", inner_->void_charge(request, by));
    }

    asio::awaitable<settlement_list> settlements(const std::string& first_day,
                                                 const std::string& last_day, model::currency unit,
                                                 deadline by) override {
        return timed("settlements", inner_->settlements(first_day, last_day, unit, by));
    }

    asio::awaitable<delete_result> delete_token(const std::string& token, deadline by) override {
        return timed("delete_token", inner_->delete_token(token, by));
    }

    asio::awaitable<delete_result> discard_token(const std::string& token, deadline by) override {
        return timed("discard_token", inner_->discard_token(token, by));
    }

    asio::awaitable<customer_list> list_customers(deadline by) override {
        return timed("list_customers", inner_->list_customers(by));
    }

    [[nodiscard]] std::optional<std::string> customer_of(const std::string& token) const override {
        return inner_->customer_of(token);
    }

    asio::awaitable<delete_result> forget_customer(const std::string& id, deadline by) override {
        return timed("forget_customer", inner_->forget_customer(id, by));
    }

    asio::awaitable<token_description> adopt_token(const browser_token& token,
                                                   const std::string& customer_reference,
                                                   token_use use, deadline by) override {
        return timed("adopt_token", inner_->adopt_token(token, customer_reference, use, by));
    }

  private:
    std::unique_ptr<gateway> inner_;
};

}  // namespace

std::unique_ptr<gateway> metered(std::unique_ptr<gateway> inner) {
    return std::make_unique<metered_gateway>(std::move(inner));
}

}  // namespace billpay::gateway
