#include "logging/scrubber.hpp"

#include <cstddef>

#include "tokenizer/luhn.hpp"

namespace billpay::logging {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_separator(char c) { return c == ' ' || c == '-'; }

constexpr std::size_t min_card_digits = 13;
constexpr std::size_t max_card_digits = 19;

}  // namespace

std::string scrub_card_numbers(std::string_view text) {
    std::string out(text);
    std::size_t i = 0;
    while (i < out.size()) {
        if (!is_digit(out[i]) || (i > 0 && is_digit(out[i - 1]))) {
            ++i;
            continue;
        }
        // Collect one run: digits, where a single separator may stand between two digits.
        char digits[max_card_digits];
        std::size_t count = 0;
        std::size_t end = i;
        bool too_long = false;
        while (end < out.size()) {
            if (is_digit(out[end])) {
                if (count < max_card_digits) {
                    digits[count] = out[end];
                } else {
                    too_long = true;
                }
                ++count;
                ++end;
            } else if (is_separator(out[end]) && end + 1 < out.size() && is_digit(out[end + 1]) &&
                       is_digit(out[end - 1])) {
                ++end;
            } else {
                break;
            }
        }
        if (!too_long && count >= min_card_digits &&
            tokenizer::luhn_valid(std::string_view(digits, count))) {
            std::size_t seen = 0;
            for (std::size_t j = i; j < end; ++j) {
                if (is_digit(out[j])) {
                    if (seen + 4 < count) {
                        out[j] = '*';
                    }
                    ++seen;
                }
            }
        }
        i = end;
    }
    return out;
}

}  // namespace billpay::logging
