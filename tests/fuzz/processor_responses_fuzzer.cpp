// libFuzzer: what billpayd reads from processors. Stripe's error bodies (any HTTP status) and
// Authorize.Net's answers (a byte-order mark, numbers kept exact, the transaction response's
// codes) must map to an outcome for any bytes a processor or a man in the middle could send.
#include <cstdint>
#include <string_view>

#include "gateway_adapters/authorizenet/authorizenet_protocol.hpp"
#include "gateway_adapters/stripe/stripe_errors.hpp"
#include "logging/log.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool quiet = (billpay::logging::init("off"), true);
    (void)quiet;
    if (size < 2) {
        return 0;
    }
    const int status = 100 + (data[0] << 8 | data[1]) % 500;
    const std::string_view body(reinterpret_cast<const char*>(data + 2), size - 2);
    auto stripe = billpay::gateway::stripe::map_error(status, body);
    (void)stripe;
    namespace anet = billpay::gateway::authorizenet;
    auto quoted = anet::quote_numbers(anet::strip_bom(body));
    (void)quoted;
    auto parsed = anet::parse_response(body);
    if (parsed.parsed) {
        auto mapped = anet::map_transaction(parsed);
        (void)mapped;
    }
    return 0;
}
