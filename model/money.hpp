#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace billpay::model {

/// An ISO 4217 currency code: three upper-case letters.
class currency {
  public:
    /// Nullopt unless `code` is exactly three upper-case ASCII letters.
    static std::optional<currency> parse(std::string_view code);

    [[nodiscard]] std::string_view code() const noexcept { return {code_.data(), 3}; }
    friend bool operator==(const currency&, const currency&) = default;

  private:
    std::array<char, 3> code_{};
};

/// An amount of money: a whole number of the currency's minor units (cents). There is no
/// floating point anywhere near it; arithmetic that could overflow is checked by the caller.
struct money {
    std::int64_t minor_units = 0;
    currency unit;

    friend bool operator==(const money&, const money&) = default;
};

/// How many digits of a major unit the currency's minor unit has (ISO 4217): 2 for USD, 0 for
/// JPY, 3 for KWD.
int minor_unit_digits(const currency& c) noexcept;

/// The amount as a decimal string in major units, as processors and settlement files write it:
/// 1234 USD -> "12.34", -10 USD -> "-0.10", 500 JPY -> "500". Exact: integer arithmetic only.
std::string to_decimal(const money& amount);

/// Parses a decimal string in major units into minor units, exactly: "12.34", "-0.1", "1,234.56"
/// (thousands separators allowed only in groups of three), "(12.00)" is not accepted. Nullopt
/// when the text is not a number, has more fraction digits than the currency has, or would
/// overflow.
std::optional<std::int64_t> parse_decimal(std::string_view text, const currency& c);

}  // namespace billpay::model
