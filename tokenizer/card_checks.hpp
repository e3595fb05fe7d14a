#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tokenizer/card_data.hpp"

namespace billpay::tokenizer {

enum class card_brand { visa, mastercard, amex, discover, jcb, diners, unionpay };

/// "visa", "mastercard", "amex", "discover", "jcb", "diners", "unionpay".
std::string_view to_string(card_brand brand) noexcept;
std::optional<card_brand> parse_card_brand(std::string_view text) noexcept;

/// The brand a card number's prefix names (IIN ranges), if it is one billpayd accepts:
/// Visa 4; Mastercard 51-55 and 2221-2720; American Express 34, 37; Discover 6011, 644-649, 65;
/// JCB 3528-3589; Diners Club 300-305, 36, 38, 39; UnionPay 62 and 81.
std::optional<card_brand> brand_of(std::string_view number) noexcept;

/// A year and month in the utility's time zone.
struct year_month {
    int year;
    int month;
};

/// This month where the utility is: local time, from the process time zone that billpayd sets
/// from `payments.time_zone` at start-up.
year_month current_year_month();

/// A card check that failed: the request field at fault, an error code and a message. None of it
/// quotes the card.
struct card_problem {
    std::string_view param;
    std::string_view code;
    std::string_view message;
};

/// Checks a card as typed: number (digits only, 13-19 of them, Luhn, a known brand and a length
/// that brand issues), expiry (month 1-12, a four-digit year, not before this month: a card is
/// good through the last day of its expiry month), CVC (digits; four for American Express,
/// three for the others). Returns the first problem, or nullopt when the card is well formed.
std::optional<card_problem> check_card(const card_data& card, year_month today);

/// What billpayd may keep of a card: brand, last four digits, expiry month and year, and a keyed
/// fingerprint (see fingerprinter).
struct stored_card {
    card_brand brand;
    std::string last4;
    int exp_month;
    int exp_year;
    std::string fingerprint;
};

/// Keyed fingerprints of card numbers: HMAC-SHA256 under `tokenizer.fingerprint_key`, so the
/// same card can be recognised (a saved card saved twice, a request replayed) while an unkeyed
/// hash, which is as good as the number (the number space is small), is never computed.
class fingerprinter {
  public:
    explicit fingerprinter(std::string_view key);
    ~fingerprinter();
    fingerprinter(const fingerprinter&) = delete;
    fingerprinter& operator=(const fingerprinter&) = delete;

    /// The card's fingerprint: hex HMAC of the number alone (the same card with a new expiry
    /// is the same card).
    [[nodiscard]] std::string of_number(const card_data& card) const;

    /// A fingerprint of the card fields the customer typed (number, expiry, name, postal code),
    /// for telling an idempotent replay from a different request under the same key. Never the
    /// CVC: the fingerprint is kept with the key after authorisation, and PCI DSS 3.3.1.2 forbids
    /// keeping the card verification code in any form (with the key, all 1,000 values could be
    /// tried against it). A retry that changes only the CVC is the same request.
    [[nodiscard]] std::string of_request_fields(const card_data& card) const;

    /// A fingerprint for a card billpayd never saw, from the processor's own fingerprint of it
    /// (a browser token): keyed again, so the stored value means nothing outside billpayd.
    [[nodiscard]] std::string of_processor_fingerprint(std::string_view processor,
                                                       std::string_view fingerprint) const;

    /// What a processor is told instead of a utility account number (as its customer id, in a
    /// charge's description): a keyed pseudonym, "c" and 19 hex digits (20 characters, the
    /// longest customer id Authorize.Net takes), the same for one account every time and
    /// meaningless without the key.
    [[nodiscard]] std::string of_account(std::string_view account_number) const;

    /// Brand, last 4, expiry and fingerprint of a card that passed check_card.
    [[nodiscard]] stored_card describe(const card_data& card) const;

  private:
    std::string hmac_hex(std::string_view domain,
                         std::initializer_list<std::string_view> parts) const;
    unsigned char* key_;
    std::size_t key_length_;
};

}  // namespace billpay::tokenizer
