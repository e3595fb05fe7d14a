#include "payments/money.hpp"

namespace billpay::payments {

std::optional<currency> currency::parse(std::string_view code) {
    if (code.size() != 3) {
        return std::nullopt;
    }
    currency c;
    for (std::size_t i = 0; i < 3; ++i) {
        if (code[i] < 'A' || code[i] > 'Z') {
            return std::nullopt;
        }
        c.code_[i] = code[i];
    }
    return c;
}

}  // namespace billpay::payments
