#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace billpay::payments {

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

}  // namespace billpay::payments
