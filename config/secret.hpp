#pragma once

#include <string>
#include <string_view>

namespace billpay::config {

/// A credential read from the config or a credential file (database DSN, API secret, HMAC key).
/// It is wiped when destroyed and has no stream operator, so it cannot be logged by accident.
/// Card data never lives here: that is tokenizer::card_data's job.
class secret {
  public:
    secret() = default;
    explicit secret(std::string value) : value_(std::move(value)) {}
    secret(const secret& other) : value_(other.value_) {}
    secret& operator=(const secret& other);
    secret(secret&& other) noexcept : value_(std::move(other.value_)) { other.wipe(); }
    secret& operator=(secret&& other) noexcept;
    ~secret() { wipe(); }

    /// The secret's bytes, for the one call that needs them (an HMAC, a connection string).
    [[nodiscard]] std::string_view reveal() const noexcept { return value_; }
    [[nodiscard]] bool empty() const noexcept { return value_.empty(); }

  private:
    void wipe() noexcept;
    std::string value_;
};

}  // namespace billpay::config
