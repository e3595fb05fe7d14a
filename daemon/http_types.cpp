#include "daemon/http_types.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace billpay::daemon {

response json_response(http::status status, const boost::json::value& body) {
    response res{status, 11};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");
    res.body() = boost::json::serialize(body);
    res.prepare_payload();
    return res;
}

}  // namespace billpay::daemon
