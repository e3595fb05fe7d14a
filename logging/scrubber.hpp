#pragma once

#include <string>
#include <string_view>

namespace billpay::logging {

/// Masks every run of 13 to 19 digits (single spaces or dashes may separate digit groups, as
/// people write card numbers) that passes the Luhn check: all digits but the last four become
/// '*'. This is the last step before a log line leaves the process, a second line of defence
/// behind the rule that card data never reaches a log at all.
std::string scrub_card_numbers(std::string_view text);

}  // namespace billpay::logging
