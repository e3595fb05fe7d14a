#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"
#include "daemon/api_error.hpp"
#include "daemon/http_types.hpp"
#include "finance/reader.hpp"

namespace billpay::daemon {

/// Who is calling: a configured client and its role.
struct api_client {
    std::string id;
    config::client_role role;
};

/// The API's clients (config `clients`). A request authenticates with `Authorization: Bearer
/// <key>`, whose SHA-256 is compared in constant time against every configured hash, or, when
/// listen.tls.client_ca is set, with a client certificate whose subject CN a client names
/// (`certificate_cn`). Both, when both are present, must name the same client.
class api_clients {
  public:
    explicit api_clients(const std::vector<config::client_settings>& clients);

    /// The client, or 401.
    [[nodiscard]] boost::system::result<api_client, api_error> authenticate(
        const request& req, const request_context& ctx) const;

    /// The client if it authenticates and has one of `roles`; 401 or 403 otherwise.
    [[nodiscard]] boost::system::result<api_client, api_error> caller(
        const request& req, const request_context& ctx,
        const std::vector<config::client_role>& roles) const;

  private:
    std::vector<config::client_settings> clients_;
};

std::string_view to_string(config::client_role role) noexcept;

/// Where a request came from, for the audit trail: the peer's IP address.
std::string source_of(const request_context& ctx);

/// The client as finance::staff_reads sees it: staff unless it is the portal, reading for
/// `account` when the request names one.
finance::reader reader_of(const api_client& client, const request_context& ctx,
                          std::optional<std::string> account);

}  // namespace billpay::daemon
