#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
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
    void add(http::verb method, std::string pattern, handler h);

    /// Fills ctx.path, ctx.path_params and ctx.query from the target, then calls the handler and
    /// renders a refusal.
    boost::asio::awaitable<response> dispatch(request_context& ctx, request& req) const;

  private:
    struct route {
        http::verb method;
        std::vector<std::string> segments;
        handler h;
    };
    std::vector<route> routes_;
};

}  // namespace billpay::daemon
