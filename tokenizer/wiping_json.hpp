#pragma once

#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>
#include <string_view>

namespace billpay::tokenizer {

/// Limits for request bodies that may carry card data.
struct json_limits {
    std::size_t max_depth = 8;
};

/// Parses a request body that may carry card data. Every byte the parse allocates (the parser's
/// work space and the resulting value's strings and containers) comes from a memory resource
/// that overwrites each block before freeing it, so the card number's copies in the parsed
/// value are wiped when the value goes. Strict JSON: no comments, no trailing commas, valid
/// UTF-8 only, nesting at most `max_depth`. On error, `ec` is set and the value is null.
boost::json::value parse_wiping(std::string_view body, boost::system::error_code& ec,
                                json_limits limits = {});

}  // namespace billpay::tokenizer
