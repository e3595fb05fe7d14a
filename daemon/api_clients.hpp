#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"
#include "daemon/http_types.hpp"

namespace billpay::daemon {

/// Who is calling: a configured client and its role.
struct api_client {
    std::string id;
    config::client_role role;
};

/// Outcome of authenticating a request: the client, or the error response to send.
struct authentication {
    std::optional<api_client> client;
    std::optional<response> refusal;
};

/// The API's clients (config `clients`). A request authenticates with `Authorization: Bearer
/// <key>`, whose SHA-256 is compared in constant time against every configured hash, or, when
/// listen.tls.client_ca is set, with a client certificate whose subject CN a client names
/// (`certificate_cn`). Both, when both are present, must name the same client.
class api_clients {
  public:
    explicit api_clients(const std::vector<config::client_settings>& clients);

    [[nodiscard]] authentication authenticate(const request& req, const request_context& ctx) const;

    /// 403 unless the client has one of `roles`.
    [[nodiscard]] static std::optional<response> require_role(
        const api_client& client, std::initializer_list<config::client_role> roles,
        const request_context& ctx);

  private:
    std::vector<config::client_settings> clients_;
};

std::string_view to_string(config::client_role role) noexcept;

}  // namespace billpay::daemon
