#pragma once

#include <boost/asio/awaitable.hpp>

#include "daemon/api_clients.hpp"
#include "daemon/idempotent_post.hpp"
#include "daemon/router.hpp"
#include "payments/scheduled_payments.hpp"

namespace billpay::daemon {

/// Payments scheduled ahead (docs/api.md, "Scheduled payments"), role portal:
///   POST   /v1/scheduled_payments                             schedule one (Idempotency-Key)
///   GET    /v1/scheduled_payments?account_number=             the account's, by day
///   DELETE /v1/scheduled_payments/{id}?account_number=        cancel one until its run began
class scheduled_payments_api {
  public:
    scheduled_payments_api(const config::settings& settings, const api_clients& clients,
                           const idempotent_posts& posts, payments::scheduled_payments& schedules)
        : settings_(settings), clients_(clients), posts_(posts), schedules_(schedules) {}

    void add_routes(router& routes);

  private:
    boost::asio::awaitable<api_result> create(request_context& ctx, request& req);
    boost::asio::awaitable<api_result> list(request_context& ctx, request& req);
    boost::asio::awaitable<api_result> cancel(request_context& ctx, request& req);

    const config::settings& settings_;
    const api_clients& clients_;
    const idempotent_posts& posts_;
    payments::scheduled_payments& schedules_;
};

}  // namespace billpay::daemon
