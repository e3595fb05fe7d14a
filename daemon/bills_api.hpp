#pragma once

#include <boost/asio/awaitable.hpp>

#include "daemon/api_clients.hpp"
#include "daemon/router.hpp"
#include "payments/bills.hpp"

namespace billpay::daemon {

/// The utility's billing system announces bills (docs/api.md, "Bills"):
///   POST /v1/bills   201 a new bill; 200 the same bill again (as it stands, paid or not);
///                    409 bill_conflict for other content under the account and bill id
/// Role `billing`. Idempotent by (account, bill id) itself: no Idempotency-Key.
class bills_api {
  public:
    bills_api(const api_clients& clients, payments::bills& bills)
        : clients_(clients), bills_(bills) {}

    void add_routes(router& routes);

  private:
    boost::asio::awaitable<api_result> create_bill(request_context& ctx, request& req);

    const api_clients& clients_;
    payments::bills& bills_;
};

}  // namespace billpay::daemon
