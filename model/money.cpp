#include "model/money.hpp"

#include <cstdint>

namespace billpay::model {

std::optional<currency> currency::parse(std::string_view code) {
    if (code.size() != 3) {
        return std::nullopt;
    }
    currency c;
    for (std::size_t i = 0; i < 3; ++i) {
        if (code[i] < 'A' || code[i] > 'Z') {
            return std::nullopt;
        }
        c.code_[i] = code[i];
    }
    return c;
}

int minor_unit_digits(const currency& c) noexcept {
    static constexpr std::string_view zero[] = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY",
                                                "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
                                                "VND", "VUV", "XAF", "XOF", "XPF"};
    static constexpr std::string_view three[] = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"};
    for (auto code : zero) {
        if (c.code() == code) {
            return 0;
        }
    }
    for (auto code : three) {
        if (c.code() == code) {
            return 3;
        }
    }
    return 2;
}

std::string to_decimal(const money& amount) {
    int digits = minor_unit_digits(amount.unit);
    // The magnitude as unsigned, so that INT64_MIN has one too.
    std::uint64_t magnitude =
        amount.minor_units < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(amount.minor_units)
                               : static_cast<std::uint64_t>(amount.minor_units);
    std::string text = std::to_string(magnitude);
    if (digits > 0) {
        if (text.size() <= static_cast<std::size_t>(digits)) {
            text.insert(0, static_cast<std::size_t>(digits) + 1 - text.size(), '0');
        }
        text.insert(text.size() - static_cast<std::size_t>(digits), 1, '.');
    }
    if (amount.minor_units < 0) {
        text.insert(0, 1, '-');
    }
    return text;
}

std::optional<std::int64_t> parse_decimal(std::string_view text, const currency& c) {
    const int digits = minor_unit_digits(c);
    bool negative = false;
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
        negative = text.front() == '-';
        text.remove_prefix(1);
    }
    auto point = text.find('.');
    std::string_view whole = text.substr(0, point);
    std::string_view fraction =
        point == std::string_view::npos ? std::string_view() : text.substr(point + 1);
    if (whole.empty() || (point != std::string_view::npos && fraction.empty()) ||
        fraction.size() > static_cast<std::size_t>(digits)) {
        return std::nullopt;
    }
    // Thousands separators: "1,234,567" but never "12,34" or "1,,234".
    if (whole.find(',') != std::string_view::npos) {
        auto first = whole.find(',');
        if (first == 0 || first > 3 || (whole.size() - first) % 4 != 0) {
            return std::nullopt;
        }
        for (std::size_t i = first; i < whole.size(); ++i) {
            if ((whole[i] == ',') != ((i - first) % 4 == 0)) {
                return std::nullopt;
            }
        }
    }
    constexpr std::uint64_t limit = static_cast<std::uint64_t>(INT64_MAX);
    std::uint64_t value = 0;
    auto push = [&value](char ch) {
        if (ch < '0' || ch > '9' || value > (limit - 9) / 10) {
            return false;
        }
        value = value * 10 + static_cast<std::uint64_t>(ch - '0');
        return true;
    };
    for (char ch : whole) {
        if (ch != ',' && !push(ch)) {
            return std::nullopt;
        }
    }
    for (int i = 0; i < digits; ++i) {
        char ch = static_cast<std::size_t>(i) < fraction.size() ? fraction[i] : '0';
        if (!push(ch)) {
            return std::nullopt;
        }
    }
    auto signed_value = static_cast<std::int64_t>(value);
    return negative ? -signed_value : signed_value;
}

}  // namespace billpay::model
