#pragma once

#include <boost/asio/awaitable.hpp>

#include "config/settings.hpp"
#include "daemon/api_clients.hpp"
#include "daemon/idempotent_post.hpp"
#include "daemon/router.hpp"
#include "finance/staff_reads.hpp"
#include "payments/payment_service.hpp"
#include "tokenizer/card_checks.hpp"

namespace billpay::daemon {

/// The answers a payment's Idempotency-Key replays, as the API renders them: 201 with the
/// payment (succeeded), 402 card_error naming the payment (declined or failed), 202 with the
/// payment (pending: the processor's answer is not known yet).
class payment_answers final : public payments::answer_renderer {
  public:
    [[nodiscard]] model::stored_response render(const model::payment_record& payment,
                                                const std::string& request_id) const override;
};

/// The payments API (docs/api.md): POST/GET /v1/payments, GET /v1/payments/{id}, and the saved
/// cards under /v1/payment_methods. Its handlers authenticate, parse, call the payment use
/// case (payments/) or staff_reads (finance/: every read by staff audited), and render; POSTs go
/// through the idempotent-POST pipeline.
class payments_api {
  public:
    payments_api(const config::settings& settings, const api_clients& clients,
                 const idempotent_posts& posts, payments::payment_service& service,
                 finance::staff_reads& reads, const tokenizer::fingerprinter& fingerprints,
                 const payment_answers& answers);

    void add_routes(router& routes);

  private:
    boost::asio::awaitable<api_result> create_payment(request_context& ctx, request& req);
    boost::asio::awaitable<api_result> get_payment(request_context& ctx, request& req);
    boost::asio::awaitable<api_result> list_payments(request_context& ctx, request& req);
    boost::asio::awaitable<api_result> create_payment_method(request_context& ctx, request& req);
    boost::asio::awaitable<api_result> list_payment_methods(request_context& ctx, request& req);
    boost::asio::awaitable<api_result> delete_payment_method(request_context& ctx, request& req);

    /// A card typed into the portal, checked (brand, length, Luhn, expiry, CVC: 400 naming the
    /// field otherwise): its keyed fingerprint, for the request's idempotency fingerprint.
    [[nodiscard]] boost::system::result<std::string, api_error> check_card(
        const tokenizer::card_data& card) const;
    /// The answer to a finished payment request, and what becomes of its key.
    [[nodiscard]] post_outcome answer(const payments::pay_result& result,
                                      const request_context& ctx) const;

    const config::settings& settings_;
    const api_clients& clients_;
    const idempotent_posts& posts_;
    payments::payment_service& service_;
    finance::staff_reads& reads_;
    const tokenizer::fingerprinter& fingerprints_;
    const payment_answers& answers_;
};

}  // namespace billpay::daemon
