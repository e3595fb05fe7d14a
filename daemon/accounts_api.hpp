#pragma once

#include <boost/asio/awaitable.hpp>

#include "daemon/api_clients.hpp"
#include "daemon/router.hpp"
#include "store/privacy.hpp"

namespace billpay::daemon {

/// A customer's own data (docs/api.md, docs/privacy.md):
///   PATCH /v1/accounts/{account_number}          the email later notices go to (portal)
///   GET   /v1/accounts/{account_number}/export   everything billpayd holds about the account
///                                                (finance; the portal, for the account it names)
/// Both are recorded in the audit trail (account.email_corrected, customer.exported).
class accounts_api {
  public:
    accounts_api(const api_clients& clients, store::privacy_store& records)
        : clients_(clients), records_(records) {}

    void add_routes(router& routes);

  private:
    boost::asio::awaitable<api_result> correct_email(request_context& ctx, request& req);
    boost::asio::awaitable<api_result> export_account(request_context& ctx, request& req);

    const api_clients& clients_;
    store::privacy_store& records_;
};

}  // namespace billpay::daemon
