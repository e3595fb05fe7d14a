#pragma once

#include <string_view>

namespace billpay::tokenizer {

/// The Luhn (mod 10) check over a run of ASCII digits. Returns false for an empty run or any
/// character that is not a digit. Works on views so that callers can check bytes held in locked
/// memory without copying them anywhere.
constexpr bool luhn_valid(std::string_view digits) noexcept {
    if (digits.empty()) {
        return false;
    }
    int sum = 0;
    bool double_it = false;
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
        if (*it < '0' || *it > '9') {
            return false;
        }
        int d = *it - '0';
        if (double_it) {
            d *= 2;
            if (d > 9) {
                d -= 9;
            }
        }
        sum += d;
        double_it = !double_it;
    }
    return sum % 10 == 0;
}

}  // namespace billpay::tokenizer
