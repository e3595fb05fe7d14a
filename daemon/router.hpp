#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "daemon/api_error.hpp"
#include "daemon/http_types.hpp"

namespace billpay::daemon {

/// A route's handler: it authenticates, parses, calls and renders, and returns its response or
/// its refusal (rendered by the router, in one place). It runs on the connection's strand and
/// must not block: database work goes through the store's repositories.
using handler = std::function<boost::asio::awaitable<api_result>(request_context&, request&)>;

/// Routing by method and path. Patterns are literal segments and `{name}` captures, e.g.
/// "/v1/payments/{id}". A path no route matches is 404; a path that matches with another method
/// is 405 with an Allow header. Both use the JSON error shape.
class router {
  public:
    /// Who may call a route: anyone (health checks), or only an authenticated client.
    enum class access { anyone, clients };

    void add(http::verb method, std::string pattern, handler h, access who = access::clients);

    /// How a request's headers are authenticated (api_clients::authenticate): a refusal, or
    /// nothing when they name a client.
    using authenticator =
        std::function<std::optional<api_error>(const request&, const request_context&)>;
    void authenticate_with(authenticator check) { authenticate_ = std::move(check); }

    struct admission {
        std::optional<response> refusal;  // answer this and close: the body is never read
        bool authenticated = false;       // the headers named a client
    };
    /// Called when a request's headers have arrived, before its body is read: a route for
    /// clients only refuses unauthenticated headers here, so nobody unauthenticated makes
    /// billpayd read (and hold) a body. A request no route matches is left to dispatch().
    [[nodiscard]] admission admit(const request& req, const request_context& ctx) const;

    /// Fills ctx.path, ctx.path_params and ctx.query from the target, then calls the handler and
    /// renders a refusal.
    boost::asio::awaitable<response> dispatch(request_context& ctx, request& req) const;

  private:
    struct route {
        http::verb method;
        std::vector<std::string> segments;
        handler h;
        access who;
    };
    std::vector<route> routes_;
    authenticator authenticate_;
};

}  // namespace billpay::daemon
