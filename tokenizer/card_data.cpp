#include "tokenizer/card_data.hpp"

#include <openssl/crypto.h>

#include <cstring>
#include <new>

namespace billpay::tokenizer {

struct card_data::fields {
    char number[max_number_length];
    char cvc[max_cvc_length];
    char name[max_name_length];
    char postal_code[max_postal_code_length];
    std::uint8_t number_length;
    std::uint8_t cvc_length;
    std::uint8_t name_length;
    std::uint8_t postal_code_length;
    std::uint8_t exp_month;
    std::uint16_t exp_year;
};

namespace {

bool copy_into(char* dest, std::uint8_t& length, std::size_t capacity, std::string_view text) {
    if (text.size() > capacity) {
        return false;
    }
    OPENSSL_cleanse(dest, capacity);
    std::memcpy(dest, text.data(), text.size());
    length = static_cast<std::uint8_t>(text.size());
    return true;
}

}  // namespace

bool init_secure_memory(std::size_t bytes) {
    if (CRYPTO_secure_malloc_initialized()) {
        return true;
    }
    // OpenSSL returns 2 when the heap works but could not be locked or excluded from dumps:
    // for card data that is not good enough.
    if (CRYPTO_secure_malloc_init(bytes, 64) != 1) {
        CRYPTO_secure_malloc_done();
        return false;
    }
    return true;
}

card_data::card_data() {
    if (!CRYPTO_secure_malloc_initialized()) {
        // Without locked memory card data would live on the ordinary heap: refuse.
        throw std::bad_alloc();
    }
    fields_ = static_cast<fields*>(CRYPTO_secure_zalloc(sizeof(fields), __FILE__, __LINE__));
    if (!fields_) {
        throw std::bad_alloc();
    }
}

card_data::~card_data() {
    if (fields_) {
        CRYPTO_secure_clear_free(fields_, sizeof(fields), __FILE__, __LINE__);
    }
}

card_data::card_data(card_data&& other) noexcept : fields_(other.fields_) {
    other.fields_ = nullptr;
}

card_data& card_data::operator=(card_data&& other) noexcept {
    if (this != &other) {
        if (fields_) {
            CRYPTO_secure_clear_free(fields_, sizeof(fields), __FILE__, __LINE__);
        }
        fields_ = other.fields_;
        other.fields_ = nullptr;
    }
    return *this;
}

bool card_data::set_number(std::string_view digits) noexcept {
    return fields_ && copy_into(fields_->number, fields_->number_length, max_number_length, digits);
}
bool card_data::set_cvc(std::string_view digits) noexcept {
    return fields_ && copy_into(fields_->cvc, fields_->cvc_length, max_cvc_length, digits);
}
bool card_data::set_name(std::string_view name) noexcept {
    return fields_ && copy_into(fields_->name, fields_->name_length, max_name_length, name);
}
bool card_data::set_postal_code(std::string_view code) noexcept {
    return fields_ && copy_into(fields_->postal_code, fields_->postal_code_length,
                                max_postal_code_length, code);
}
void card_data::set_expiry(int month, int year) noexcept {
    if (fields_) {
        // Out of range is stored as 0, which the card checks refuse: never truncated into a
        // value that looks valid (268 into one byte is 12).
        fields_->exp_month = month >= 1 && month <= 12 ? static_cast<std::uint8_t>(month) : 0;
        fields_->exp_year = year >= 0 && year <= 9999 ? static_cast<std::uint16_t>(year) : 0;
    }
}

std::string_view card_data::number() const noexcept {
    return fields_ ? std::string_view(fields_->number, fields_->number_length) : std::string_view();
}
std::string_view card_data::cvc() const noexcept {
    return fields_ ? std::string_view(fields_->cvc, fields_->cvc_length) : std::string_view();
}
std::string_view card_data::name() const noexcept {
    return fields_ ? std::string_view(fields_->name, fields_->name_length) : std::string_view();
}
std::string_view card_data::postal_code() const noexcept {
    return fields_ ? std::string_view(fields_->postal_code, fields_->postal_code_length)
                   : std::string_view();
}
int card_data::exp_month() const noexcept { return fields_ ? fields_->exp_month : 0; }
int card_data::exp_year() const noexcept { return fields_ ? fields_->exp_year : 0; }

void card_data::wipe() noexcept {
    if (fields_) {
        OPENSSL_cleanse(fields_, sizeof(fields));
    }
}

}  // namespace billpay::tokenizer
