#pragma once

#include <boost/asio/awaitable.hpp>

#include "config/settings.hpp"
#include "daemon/api_clients.hpp"
#include "daemon/router.hpp"
#include "finance/refunds.hpp"
#include "store/database.hpp"

namespace billpay::daemon {

/// The finance role's API (docs/api.md, docs/finance.md):
///   POST /v1/payments/{id}/refunds   refund all or part of a payment (Idempotency-Key)
///   GET  /v1/payments/{id}/refunds   the payment's refunds
///   GET  /v1/reports/daily           daily totals and reconciliation exceptions
///   GET  /v1/reconciliations/{id}    one reconciliation run with every finding
/// Every call is recorded in the audit trail.
class finance_api {
  public:
    finance_api(const config::settings& settings, const api_clients& clients,
                store::database& database, finance::refunds& refunds);

    void add_routes(router& routes);

  private:
    boost::asio::awaitable<response> create_refund(request_context& ctx, request& req);
    boost::asio::awaitable<response> list_refunds(request_context& ctx, request& req);
    boost::asio::awaitable<response> daily_report(request_context& ctx, request& req);
    boost::asio::awaitable<response> get_reconciliation(request_context& ctx, request& req);

    const config::settings& settings_;
    const api_clients& clients_;
    store::database& database_;
    finance::refunds& refunds_;
};

}  // namespace billpay::daemon
