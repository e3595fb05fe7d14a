#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace billpay::tokenizer {

/// Where a card number may be written inside free text, the way people and programs write
/// one: 13 to 19 digits, possibly in groups separated by spaces (one or two), tabs, `-`, `.`,
/// `/`, `_`, line breaks, or the JSON escapes `\n`, `\r`, `\t`; possibly running on into more
/// digits (the expiry or the CVC typed after it). Every window of 13 to 19 consecutive digits of
/// such a run is tried against the Luhn check.
struct card_number_match {
    /// Offsets in the text of the window's digits, in order (separators are not listed).
    std::vector<std::size_t> digits;
};

enum class card_number_rule {
    luhn,           // any window that passes Luhn: for masking logs (masking too much is cheap)
    luhn_and_brand  // and starts as a card brand's numbers do (2-6): for refusing input
};

/// Every window that looks like a card number under `rule`, in order of its first digit.
std::vector<card_number_match> find_card_numbers(std::string_view text, card_number_rule rule);

/// True when `text` holds something that looks like a card number (rule luhn_and_brand).
bool contains_card_number(std::string_view text);

}  // namespace billpay::tokenizer
