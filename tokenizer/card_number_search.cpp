#include "tokenizer/card_number_search.hpp"

#include "tokenizer/luhn.hpp"

namespace billpay::tokenizer {
namespace {

constexpr std::size_t min_digits = 13;
constexpr std::size_t max_digits = 19;
constexpr int max_gap_tokens = 3;  // "4242 - 4242", "4242\n4242", "4242  4242"

bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// The length of the separator token at `at`, or 0 when there is none.
std::size_t separator_at(std::string_view text, std::size_t at) {
    const char c = text[at];
    if (c == ' ' || c == '\t' || c == '-' || c == '.' || c == '/' || c == '_' || c == '\n' ||
        c == '\r') {
        return 1;
    }
    if (c == '\\' && at + 1 < text.size()) {
        const char e = text[at + 1];
        if (e == 'n' || e == 'r' || e == 't') {
            return 2;
        }
    }
    return 0;
}

/// After the digit at `at`: where the next digit of the same run is, or npos.
std::size_t next_digit_of_run(std::string_view text, std::size_t at) {
    std::size_t i = at + 1;
    for (int tokens = 0; i < text.size(); ++tokens) {
        if (is_digit(text[i])) {
            return i;
        }
        if (tokens == max_gap_tokens) {
            break;
        }
        const auto length = separator_at(text, i);
        if (length == 0) {
            break;
        }
        i += length;
    }
    return std::string_view::npos;
}

}  // namespace

std::vector<card_number_match> find_card_numbers(std::string_view text, card_number_rule rule) {
    std::vector<card_number_match> found;
    std::vector<std::size_t> run;  // offsets of one run's digits
    char digits[max_digits];
    std::size_t i = 0;
    while (i < text.size()) {
        if (!is_digit(text[i])) {
            ++i;
            continue;
        }
        run.clear();
        std::size_t last = i;
        for (std::size_t at = i; at != std::string_view::npos; at = next_digit_of_run(text, at)) {
            run.push_back(at);
            last = at;
        }
        for (std::size_t start = 0; start + min_digits <= run.size(); ++start) {
            if (rule == card_number_rule::luhn_and_brand &&
                (text[run[start]] < '2' || text[run[start]] > '6')) {
                continue;
            }
            for (std::size_t length = min_digits;
                 length <= max_digits && start + length <= run.size(); ++length) {
                for (std::size_t k = 0; k < length; ++k) {
                    digits[k] = text[run[start + k]];
                }
                if (luhn_valid(std::string_view(digits, length))) {
                    found.push_back(card_number_match{std::vector<std::size_t>(
                        run.begin() + static_cast<std::ptrdiff_t>(start),
                        run.begin() + static_cast<std::ptrdiff_t>(start + length))});
                }
            }
        }
        i = last + 1;
    }
    return found;
}

bool contains_card_number(std::string_view text) {
    return !find_card_numbers(text, card_number_rule::luhn_and_brand).empty();
}

}  // namespace billpay::tokenizer
