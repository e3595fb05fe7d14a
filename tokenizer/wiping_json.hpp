#pragma once

#include <boost/json/memory_resource.hpp>
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
/// UTF-8 only, nesting at most `max_depth`, no key twice in one object (Boost.JSON would keep
/// the last silently). On error, `ec` is set and the value is null.
/// `upstream`: where the blocks come from and go back to once wiped (the heap when null; tests
/// pass one that looks at each block as it comes back).
boost::json::value parse_wiping(std::string_view body, boost::system::error_code& ec,
                                json_limits limits = {},
                                boost::json::memory_resource* upstream = nullptr);

}  // namespace billpay::tokenizer
