#pragma once

#include <boost/asio/awaitable.hpp>

#include "daemon/api_clients.hpp"
#include "daemon/router.hpp"
#include "payments/autopay.hpp"

namespace billpay::daemon {

/// A customer's AutoPay (docs/api.md, "AutoPay"), role portal, for the account in the path:
///   PUT    /v1/accounts/{account_number}/autopay   enroll, or change the enrollment (200)
///   GET    /v1/accounts/{account_number}/autopay   the enrollment (404 when none)
///   DELETE /v1/accounts/{account_number}/autopay   end it (404 when none)
/// PUT is idempotent by itself: no Idempotency-Key.
class autopay_api {
  public:
    autopay_api(const api_clients& clients, payments::autopay& autopay)
        : clients_(clients), autopay_(autopay) {}

    void add_routes(router& routes);

  private:
    boost::asio::awaitable<api_result> enroll(request_context& ctx, request& req);
    boost::asio::awaitable<api_result> show(request_context& ctx, request& req);
    boost::asio::awaitable<api_result> end(request_context& ctx, request& req);
    /// The portal client's account in the path, checked; 401/403/400 otherwise.
    [[nodiscard]] boost::system::result<std::string, api_error> portal_account(
        const request_context& ctx, const request& req) const;

    const api_clients& clients_;
    payments::autopay& autopay_;
};

}  // namespace billpay::daemon
