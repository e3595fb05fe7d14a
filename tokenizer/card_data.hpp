#pragma once

#include <cstdint>
#include <string_view>

namespace billpay::tokenizer {

/// Reserves the locked memory card data lives in: OpenSSL's secure heap, which is mlock()ed,
/// excluded from core dumps (MADV_DONTDUMP) and fenced by guard pages. Call once at start-up,
/// before any card_data exists. `bytes` must be a power of two. Returns false when the kernel
/// refuses to lock that much memory (raise LimitMEMLOCK=); billpayd then refuses to start.
bool init_secure_memory(std::size_t bytes);

/// A card as the customer typed it: number, expiry, CVC, and the optional cardholder name and
/// postal code. The only place billpayd holds card data. Its bytes live in locked memory, are
/// wiped (OPENSSL_cleanse) on destruction or by wipe(), and can be read only through the views
/// below, which the validator and the processor adapter use to build a processor request. There
/// is no way to copy it, stream it or convert it to a std::string.
class card_data {
  public:
    /// Throws std::bad_alloc when the locked memory is exhausted (the daemon answers 503).
    card_data();
    ~card_data();
    card_data(card_data&& other) noexcept;
    card_data& operator=(card_data&& other) noexcept;
    card_data(const card_data&) = delete;
    card_data& operator=(const card_data&) = delete;

    static constexpr std::size_t max_number_length = 19;
    static constexpr std::size_t max_cvc_length = 4;
    static constexpr std::size_t max_name_length = 120;
    static constexpr std::size_t max_postal_code_length = 16;

    /// Each setter copies from the parser's buffer (which is wiped after parsing) into locked
    /// memory. They return false, storing nothing, when the text is longer than the field.
    bool set_number(std::string_view digits) noexcept;
    bool set_cvc(std::string_view digits) noexcept;
    bool set_name(std::string_view name) noexcept;
    bool set_postal_code(std::string_view code) noexcept;
    void set_expiry(int month, int year) noexcept;

    [[nodiscard]] std::string_view number() const noexcept;
    [[nodiscard]] std::string_view cvc() const noexcept;
    [[nodiscard]] std::string_view name() const noexcept;
    [[nodiscard]] std::string_view postal_code() const noexcept;
    [[nodiscard]] int exp_month() const noexcept;
    [[nodiscard]] int exp_year() const noexcept;

    /// Overwrites every byte; the card is empty afterwards. Called as soon as it is tokenized.
    void wipe() noexcept;

  private:
    struct fields;
    fields* fields_;
};

}  // namespace billpay::tokenizer
