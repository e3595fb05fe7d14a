#include "model/text.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

namespace billpay::model {
namespace {

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

bool unsafe(std::uint32_t cp) {
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C || cp == 0x200E ||
           cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF;
}

}  // namespace

bool is_plain_text(std::string_view utf8) noexcept {
    std::size_t i = 0;
    while (i < utf8.size()) {
        const auto c = static_cast<unsigned char>(utf8[i]);
        std::uint32_t cp = 0;
        std::size_t length = 0;
        if (c < 0x80) {
            cp = c;
            length = 1;
        } else if (c >= 0xC2 && c <= 0xDF) {
            cp = c & 0x1FU;
            length = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            cp = c & 0x0FU;
            length = 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            cp = c & 0x07U;
            length = 4;
        } else {
            return false;  // a continuation byte first, an overlong lead, or past U+10FFFF
        }
        if (i + length > utf8.size()) {
            return false;
        }
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(utf8[i + k]);
            if (!is_continuation(next)) {
                return false;
            }
            cp = (cp << 6) | (next & 0x3FU);
        }
        const bool overlong = (length == 3 && cp < 0x800) || (length == 4 && cp < 0x10000);
        const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
        if (overlong || surrogate || cp > 0x10FFFF || unsafe(cp)) {
            return false;
        }
        i += length;
    }
    return true;
}

/// A CSV field, quoted when it must be; a leading =, +, - or @ is prefixed with ' so that a
/// spreadsheet never runs it as a formula.
std::string csv_field(std::string_view text) {
    std::string value(text);
    // What a spreadsheet may read as the start of a formula (OWASP's list: = + - @, tab, CR).
    // A negative amount ("-12.34", all digits and one point) stays a number; "-1+cmd|…" does not.
    const bool plain_negative = value.size() > 1 && value[0] == '-' &&
                                value.find_first_not_of("0123456789.", 1) == std::string::npos &&
                                std::count(value.begin(), value.end(), '.') <= 1 &&
                                value[1] != '.' && value.back() != '.';
    if (!value.empty() && !plain_negative &&
        (value[0] == '=' || value[0] == '+' || value[0] == '@' || value[0] == '-' ||
         value[0] == '\t' || value[0] == '\r')) {
        value.insert(0, 1, '\'');
    }
    if (value.find_first_of(",\"\r\n") == std::string::npos) {
        return value;
    }
    std::string out = "\"";
    for (char c : value) {
        if (c == '"') {
            out += '"';
        }
        out += c;
    }
    return out + "\"";
}

}  // namespace billpay::model
