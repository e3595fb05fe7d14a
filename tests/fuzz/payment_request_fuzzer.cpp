// libFuzzer: the two request parsers that read card data (POST /v1/payments and
// POST /v1/payment_methods). Any input must give a request or a refusal naming a field, never a
// crash, a leak or undefined behaviour; a refusal never carries a card number.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "daemon/payment_requests.hpp"
#include "logging/log.hpp"
#include "tokenizer/card_data.hpp"
#include "tokenizer/card_number_search.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // As billpayd starts: the locked heap that card data lives in (else no card is read).
    static const bool ready =
        (billpay::logging::init("off"),
         billpay::tokenizer::init_secure_memory(64 * 1024) || (std::abort(), true));
    (void)ready;
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    auto payment = billpay::daemon::parse_payment_request(body);
    if (!payment &&
        billpay::tokenizer::contains_card_number(payment.error().message + payment.error().param)) {
        std::abort();  // a refusal must never carry a card number, whatever was sent
    }
    auto method = billpay::daemon::parse_payment_method_request(body);
    (void)method;
    return 0;
}
