#pragma once

#include <string>
#include <string_view>

namespace billpay::logging {

/// Masks every window of 13 to 19 digits that passes the Luhn check, written as people and
/// programs write card numbers (tokenizer/card_number_search.hpp: grouped by spaces, tabs,
/// dashes, dots, slashes, underscores, line breaks or their JSON escapes, and running on into
/// an expiry or a CVC): all its digits but the last four become '*'. This is the last step
/// before a log line leaves the process, a second line of defence behind the rule that card
/// data never reaches a log at all.
std::string scrub_card_numbers(std::string_view text);

}  // namespace billpay::logging
