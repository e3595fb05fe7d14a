#pragma once

#include <boost/asio/awaitable.hpp>

#include "config/settings.hpp"
#include "daemon/api_clients.hpp"
#include "daemon/idempotent_post.hpp"
#include "daemon/router.hpp"
#include "finance/refunds.hpp"
#include "finance/staff_reads.hpp"

namespace billpay::daemon {

/// The answers a refund's Idempotency-Key replays, as the API renders them: 201 with the refund
/// (succeeded), 409 refund_declined naming it (the processor refused it), none for one that
/// nothing reached the processor for (502: its key is given back).
class refund_answers final : public finance::refund_answer_renderer {
  public:
    [[nodiscard]] std::optional<model::stored_response> render(
        const model::refund_record& refund, const std::string& request_id) const override;
};

/// The finance role's API (docs/api.md, docs/finance.md):
///   POST /v1/payments/{id}/refunds   refund all or part of a payment (Idempotency-Key)
///   GET  /v1/payments/{id}/refunds   the payment's refunds
///   GET  /v1/reports/daily           daily totals and reconciliation exceptions
///   GET  /v1/reconciliations/{id}    one reconciliation run with every finding
/// Every call is recorded in the audit trail (refunds by finance::refunds, reads by
/// finance::staff_reads).
class finance_api {
  public:
    finance_api(const config::settings& settings, const api_clients& clients,
                const idempotent_posts& posts, finance::refunds& refunds,
                const refund_answers& answers, finance::staff_reads& reads);

    void add_routes(router& routes);

  private:
    boost::asio::awaitable<api_result> create_refund(request_context& ctx, request& req);
    boost::asio::awaitable<api_result> list_refunds(request_context& ctx, request& req);
    boost::asio::awaitable<api_result> daily_report(request_context& ctx, request& req);
    boost::asio::awaitable<api_result> get_reconciliation(request_context& ctx, request& req);

    const config::settings& settings_;
    const api_clients& clients_;
    const idempotent_posts& posts_;
    finance::refunds& refunds_;
    const refund_answers& answers_;
    finance::staff_reads& reads_;
};

}  // namespace billpay::daemon
