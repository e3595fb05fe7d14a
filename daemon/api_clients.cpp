#include "daemon/api_clients.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace billpay::daemon {

std::string_view to_string(config::client_role role) noexcept {
    switch (role) {
        case config::client_role::portal:
            return "portal";
        case config::client_role::finance:
            return "finance";
        case config::client_role::ops:
            return "ops";
        case config::client_role::billing:
            return "billing";
    }
    return "unknown";
}

api_clients::api_clients(const std::vector<config::client_settings>& clients) : clients_(clients) {}

boost::system::result<api_client, api_error> api_clients::authenticate(
    const request& req, const request_context& ctx) const {
    auto refuse = [](std::string message) {
        api_error refusal{http::status::unauthorized, error_type::authentication_error,
                          "unauthenticated", std::move(message)};
        refusal.headers.emplace_back(http::field::www_authenticate, "Bearer realm=\"billpayd\"");
        return refusal;
    };

    const config::client_settings* by_key = nullptr;
    auto header = req[http::field::authorization];
    if (!header.empty()) {
        constexpr std::string_view scheme = "Bearer ";
        if (header.size() <= scheme.size() || !header.starts_with(scheme)) {
            return refuse("Use Authorization: Bearer <API key>.");
        }
        auto key = header.substr(scheme.size());
        unsigned char digest[SHA256_DIGEST_LENGTH];
        SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
        // Compare against every client, whatever matches, so timing tells nothing.
        for (const auto& client : clients_) {
            if (client.api_key_sha256 &&
                CRYPTO_memcmp(digest, client.api_key_sha256->data(), SHA256_DIGEST_LENGTH) == 0) {
                by_key = &client;
            }
        }
        if (!by_key) {
            return refuse("The API key is not valid.");
        }
    }

    const config::client_settings* by_certificate = nullptr;
    if (!ctx.client_certificate_cn.empty()) {
        for (const auto& client : clients_) {
            if (client.certificate_cn && *client.certificate_cn == ctx.client_certificate_cn) {
                by_certificate = &client;
            }
        }
    }
    if (ctx.client_certificate && !by_certificate) {
        // A certificate that names no client is refused, even beside a valid API key: both
        // must name the same client (docs/api.md).
        return refuse(
            "The client certificate names no client: its subject must have exactly one CN, the "
            "certificate_cn of a configured client.");
    }

    if (by_key && by_certificate && by_key != by_certificate) {
        return refuse("The API key and the client certificate name different clients.");
    }
    const auto* client = by_key ? by_key : by_certificate;
    if (!client) {
        return refuse("Authenticate with Authorization: Bearer <API key>.");
    }
    return api_client{client->id, client->role};
}

boost::system::result<api_client, api_error> api_clients::caller(
    const request& req, const request_context& ctx,
    const std::vector<config::client_role>& roles) const {
    auto client = authenticate(req, ctx);
    if (!client) {
        return client;
    }
    for (auto role : roles) {
        if (client->role == role) {
            return client;
        }
    }
    return api_error{
        http::status::forbidden, error_type::permission_error, "forbidden_for_role",
        "This client's role (" + std::string(to_string(client->role)) + ") may not do this."};
}

std::string source_of(const request_context& ctx) { return ctx.remote.address().to_string(); }

finance::reader reader_of(const api_client& client, const request_context& ctx,
                          std::optional<std::string> account) {
    return finance::reader{model::actor{client.id, source_of(ctx)},
                           client.role != config::client_role::portal, std::move(account)};
}

}  // namespace billpay::daemon
