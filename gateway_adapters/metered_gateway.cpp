#include "gateway_adapters/metered_gateway.hpp"

#include <chrono>

#include "metrics/metrics.hpp"

namespace billpay::gateway {
namespace {

namespace asio = boost::asio;

/// Times one call; `result` is what the call answered (its outcome labels the observation).
class call_timer {
  public:
    explicit call_timer(const char* operation)
        : operation_(operation), started_(std::chrono::steady_clock::now()) {}

    void done(outcome result) const {
        metrics::process().processor_call_duration.observe(
            {operation_, std::string(to_string(result))},
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
    }

  private:
    const char* operation_;
    std::chrono::steady_clock::time_point started_;
};

class metered_gateway final : public gateway {
  public:
    explicit metered_gateway(std::unique_ptr<gateway> inner) : inner_(std::move(inner)) {}

    [[nodiscard]] std::string_view name() const noexcept override { return inner_->name(); }

    asio::awaitable<tokenize_result> tokenize(const tokenizer::card_data& card,
                                              const std::string& customer_reference, token_use use,
                                              deadline by) override {
        const call_timer timer("tokenize");
        auto r = co_await inner_->tokenize(card, customer_reference, use, by);
        timer.done(r.result);
        co_return r;
    }

    asio::awaitable<charge_result> charge(const charge_request& request, deadline by) override {
        const call_timer timer("charge");
        auto r = co_await inner_->charge(request, by);
        timer.done(r.result);
        co_return r;
    }

    asio::awaitable<charge_result> lookup(const charge_request& request, deadline by) override {
        const call_timer timer("lookup");
        auto r = co_await inner_->lookup(request, by);
        timer.done(r.result);
        co_return r;
    }

    asio::awaitable<refund_result> refund(const refund_request& request, deadline by) override {
        const call_timer timer("refund");
        auto r = co_await inner_->refund(request, by);
        timer.done(r.result);
        co_return r;
    }

    asio::awaitable<refund_result> void_charge(const refund_request& request,
                                               deadline by) override {
        const call_timer timer("void");
        auto r = co_await inner_->void_charge(request, by);
        timer.done(r.result);
        co_return r;
    }

    asio::awaitable<delete_result> delete_token(const std::string& token, deadline by) override {
        const call_timer timer("delete_token");
        auto r = co_await inner_->delete_token(token, by);
        timer.done(r.result);
        co_return r;
    }

    asio::awaitable<delete_result> discard_token(const std::string& token, deadline by) override {
        const call_timer timer("discard_token");
        auto r = co_await inner_->discard_token(token, by);
        timer.done(r.result);
        co_return r;
    }

    asio::awaitable<customer_list> list_customers(deadline by) override {
        const call_timer timer("list_customers");
        auto r = co_await inner_->list_customers(by);
        timer.done(r.result);
        co_return r;
    }

    [[nodiscard]] std::optional<std::string> customer_of(const std::string& token) const override {
        return inner_->customer_of(token);
    }

    asio::awaitable<delete_result> forget_customer(const std::string& id, deadline by) override {
        const call_timer timer("forget_customer");
        auto r = co_await inner_->forget_customer(id, by);
        timer.done(r.result);
        co_return r;
    }

    asio::awaitable<token_description> adopt_token(const browser_token& token,
                                                   const std::string& customer_reference,
                                                   token_use use, deadline by) override {
        const call_timer timer("adopt_token");
        auto r = co_await inner_->adopt_token(token, customer_reference, use, by);
        timer.done(r.result);
        co_return r;
    }

  private:
    std::unique_ptr<gateway> inner_;
};

}  // namespace

std::unique_ptr<gateway> metered(std::unique_ptr<gateway> inner) {
    return std::make_unique<metered_gateway>(std::move(inner));
}

}  // namespace billpay::gateway
