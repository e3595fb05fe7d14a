#include "model/text.hpp"

#include <cstdint>

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

}  // namespace billpay::model
