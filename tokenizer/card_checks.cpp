#include "tokenizer/card_checks.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <new>
#include <stdexcept>
#include <utility>

#include "tokenizer/luhn.hpp"

namespace billpay::tokenizer {
namespace {

constexpr std::array<std::pair<card_brand, std::string_view>, 7> brand_names{{
    {card_brand::visa, "visa"},
    {card_brand::mastercard, "mastercard"},
    {card_brand::amex, "amex"},
    {card_brand::discover, "discover"},
    {card_brand::jcb, "jcb"},
    {card_brand::diners, "diners"},
    {card_brand::unionpay, "unionpay"},
}};

/// The first `digits` digits of `number` as an integer (number must have that many).
int prefix(std::string_view number, std::size_t digits) {
    int value = 0;
    for (std::size_t i = 0; i < digits; ++i) {
        value = value * 10 + (number[i] - '0');
    }
    return value;
}

bool all_digits(std::string_view text) {
    for (char c : text) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return !text.empty();
}

bool length_fits(card_brand brand, std::size_t length) {
    switch (brand) {
        case card_brand::visa:
            return length == 13 || length == 16 || length == 19;
        case card_brand::mastercard:
            return length == 16;
        case card_brand::amex:
            return length == 15;
        case card_brand::discover:
        case card_brand::jcb:
        case card_brand::unionpay:
            return length >= 16 && length <= 19;
        case card_brand::diners:
            return length >= 14 && length <= 19;
    }
    return false;
}

}  // namespace

std::string_view to_string(card_brand brand) noexcept {
    for (const auto& [b, name] : brand_names) {
        if (b == brand) {
            return name;
        }
    }
    return "unknown";
}

std::optional<card_brand> parse_card_brand(std::string_view text) noexcept {
    for (const auto& [b, name] : brand_names) {
        if (name == text) {
            return b;
        }
    }
    return std::nullopt;
}

std::optional<card_brand> brand_of(std::string_view number) noexcept {
    if (number.size() < 6 || !all_digits(number)) {
        return std::nullopt;
    }
    int p1 = prefix(number, 1);
    int p2 = prefix(number, 2);
    int p3 = prefix(number, 3);
    int p4 = prefix(number, 4);
    if (p1 == 4) {
        return card_brand::visa;
    }
    if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) {
        return card_brand::mastercard;
    }
    if (p2 == 34 || p2 == 37) {
        return card_brand::amex;
    }
    if (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65) {
        return card_brand::discover;
    }
    if (p4 >= 3528 && p4 <= 3589) {
        return card_brand::jcb;
    }
    if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39) {
        return card_brand::diners;
    }
    if (p2 == 62 || p2 == 81) {
        return card_brand::unionpay;
    }
    return std::nullopt;
}

year_month current_year_month() {
    std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    return {local.tm_year + 1900, local.tm_mon + 1};
}

std::optional<card_problem> check_card(const card_data& card, year_month today) {
    auto number = card.number();
    if (!all_digits(number) || number.size() < 13 || number.size() > 19 || !luhn_valid(number)) {
        return card_problem{"card.number", "invalid_number", "The card number is not valid."};
    }
    auto brand = brand_of(number);
    if (!brand || !length_fits(*brand, number.size())) {
        return card_problem{"card.number", "invalid_number",
                            "The card number is not of a card brand this utility accepts."};
    }
    if (card.exp_month() < 1 || card.exp_month() > 12) {
        return card_problem{"card.exp_month", "invalid_expiry_month",
                            "The expiry month must be a whole number from 1 to 12."};
    }
    if (card.exp_year() < 2000 || card.exp_year() > 2099) {
        return card_problem{"card.exp_year", "invalid_expiry_year",
                            "The expiry year must be a four-digit year."};
    }
    if (card.exp_year() < today.year) {
        return card_problem{"card.exp_year", "expired_card", "The card has expired."};
    }
    if (card.exp_year() == today.year && card.exp_month() < today.month) {
        return card_problem{"card.exp_month", "expired_card", "The card has expired."};
    }
    std::size_t cvc_length = *brand == card_brand::amex ? 4 : 3;
    if (!all_digits(card.cvc()) || card.cvc().size() != cvc_length) {
        return card_problem{"card.cvc", "invalid_cvc",
                            *brand == card_brand::amex
                                ? "The security code must be the 4 digits on the card's front."
                                : "The security code must be the 3 digits on the card's back."};
    }
    return std::nullopt;
}

fingerprinter::fingerprinter(std::string_view key) : key_length_(key.size()) {
    key_ = static_cast<unsigned char*>(OPENSSL_secure_malloc(key.size() ? key.size() : 1));
    if (!key_) {
        throw std::bad_alloc();
    }
    std::memcpy(key_, key.data(), key.size());
}

fingerprinter::~fingerprinter() { OPENSSL_secure_clear_free(key_, key_length_ ? key_length_ : 1); }

std::string fingerprinter::hmac_hex(std::string_view domain,
                                    std::initializer_list<std::string_view> parts) const {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* ctx = mac ? EVP_MAC_CTX_new(mac) : nullptr;
    char digest_name[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest_name, 0),
                           OSSL_PARAM_construct_end()};
    if (!ctx || EVP_MAC_init(ctx, key_, key_length_, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        EVP_MAC_free(mac);
        throw std::runtime_error("HMAC-SHA256 is not available");
    }
    EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(domain.data()), domain.size());
    for (auto part : parts) {
        // Length-prefixed, so ("12", "3") and ("1", "23") differ.
        unsigned char length = static_cast<unsigned char>(part.size());
        EVP_MAC_update(ctx, &length, 1);
        EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(part.data()), part.size());
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    std::size_t digest_length = 0;
    EVP_MAC_final(ctx, digest, &digest_length, sizeof digest);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * digest_length);
    for (std::size_t i = 0; i < digest_length; ++i) {
        out.push_back(hex[digest[i] >> 4]);
        out.push_back(hex[digest[i] & 0xf]);
    }
    return out;
}

std::string fingerprinter::of_number(const card_data& card) const {
    return hmac_hex("billpay-card-v1", {card.number()});
}

std::string fingerprinter::of_request_fields(const card_data& card) const {
    char expiry[8];
    std::snprintf(expiry, sizeof expiry, "%02d/%04d", card.exp_month(), card.exp_year());
    // v2: the CVC left out (v1 hashed it; migration 0011 withdrew every v1 fingerprint).
    std::string out = hmac_hex("billpay-card-request-v2", {card.number(), std::string_view(expiry),
                                                           card.name(), card.postal_code()});
    OPENSSL_cleanse(expiry, sizeof expiry);
    return out;
}

std::string fingerprinter::of_processor_fingerprint(std::string_view processor,
                                                    std::string_view fingerprint) const {
    return hmac_hex("billpay-processor-card-v1", {processor, fingerprint});
}

std::string fingerprinter::of_account(std::string_view account_number) const {
    // Appended, not "c" + …: GCC 12's -Wrestrict misreads the temporary's concatenation at -O3.
    std::string reference = "c";
    reference.append(hmac_hex("billpay-account-v1", {account_number}), 0, 19);
    return reference;
}

stored_card fingerprinter::describe(const card_data& card) const {
    auto number = card.number();
    return stored_card{brand_of(number).value_or(card_brand::visa),
                       std::string(number.substr(number.size() - 4)), card.exp_month(),
                       card.exp_year(), of_number(card)};
}

}  // namespace billpay::tokenizer
