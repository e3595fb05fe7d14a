#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "memory/wiping_allocator.hpp"

namespace billpay::daemon {

namespace http = boost::beast::http;

/// Request bodies may carry card data: their string wipes every block it lets go of (see
/// memory/wiping_allocator.hpp), and the server wipes it after each request.
using request_body =
    http::basic_string_body<char, std::char_traits<char>, memory::wiping_allocator<char>>;
using request = http::request<request_body>;
using response = http::response<http::string_body>;

/// What a handler knows about the request it serves, beyond the message itself.
struct request_context {
    std::string request_id;
    boost::asio::ip::tcp::endpoint remote;
    std::string path;  // decoded, without the query; a route naming an account: its pattern
    std::map<std::string, std::string> path_params;  // from {name} segments of the route
    std::string route;  // the matched route's pattern (/v1/payments/{id}); "" before one matched
    std::multimap<std::string, std::string> query;  // decoded query parameters
    // A verified client certificate (listen.tls.client_ca): whether one was presented, and
    // its subject's CN when it has exactly one, free of NULs (empty otherwise).
    bool client_certificate = false;
    std::string client_certificate_cn;

    // What the request's access log line tells besides method, path and status (set by the
    // handler): the payment it made or replayed, and how that ended.
    std::string payment_id;
    std::string outcome;

    /// The first value of a query parameter, if given.
    [[nodiscard]] std::optional<std::string> query_value(const std::string& name) const {
        auto it = query.find(name);
        return it == query.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
};

/// A JSON response with the given status; the server adds Request-Id and connection headers.
response json_response(http::status status, const boost::json::value& body);

}  // namespace billpay::daemon
