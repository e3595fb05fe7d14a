#include "config/secret.hpp"

#include <openssl/crypto.h>

namespace billpay::config {

secret& secret::operator=(const secret& other) {
    if (this != &other) {
        wipe();
        value_ = other.value_;
    }
    return *this;
}

secret& secret::operator=(secret&& other) noexcept {
    if (this != &other) {
        wipe();
        value_ = std::move(other.value_);
        other.wipe();
    }
    return *this;
}

void secret::wipe() noexcept {
    // Growing to the capacity never reallocates, and covers bytes a shorter value or a move out
    // of the small-string buffer may have left behind.
    value_.resize(value_.capacity());
    OPENSSL_cleanse(value_.data(), value_.size());
    value_.clear();
}

}  // namespace billpay::config
