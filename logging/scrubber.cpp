#include "logging/scrubber.hpp"

#include "tokenizer/card_number_search.hpp"

namespace billpay::logging {

std::string scrub_card_numbers(std::string_view text) {
    std::string out(text);
    for (const auto& match :
         tokenizer::find_card_numbers(text, tokenizer::card_number_rule::luhn)) {
        // All digits but the window's last four. Overlapping windows mask their union.
        for (std::size_t k = 0; k + 4 < match.digits.size(); ++k) {
            out[match.digits[k]] = '*';
        }
    }
    return out;
}

}  // namespace billpay::logging
