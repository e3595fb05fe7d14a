#include "gateway_adapters/gateway.hpp"

namespace billpay::gateway {

std::string_view to_string(outcome o) noexcept {
    switch (o) {
        case outcome::approved:
            return "approved";
        case outcome::declined:
            return "declined";
        case outcome::failed:
            return "failed";
        case outcome::unknown:
            return "unknown";
    }
    return "unknown";
}

boost::asio::awaitable<settlement_list> gateway::settlements(const std::string&, const std::string&,
                                                             model::currency, deadline) {
    co_return settlement_list{
        outcome::declined,
        std::string(name()) + "'s settlements come as its report file, not through its API",
        {}};
}

}  // namespace billpay::gateway
