#pragma once

#include <openssl/crypto.h>

#include <cstddef>
#include <memory>

namespace billpay::memory {

/// A std::allocator that overwrites memory before giving it back. For the buffers secrets pass
/// through: a request body on its way to card_data (the connection's read buffer and the body
/// string), a processor's request and its credentials (https/). When they grow, the old block
/// may hold card data or a key, and it must not go back to the heap readable.
template <class T>
struct wiping_allocator {
    using value_type = T;

    wiping_allocator() noexcept = default;
    template <class U>
    wiping_allocator(const wiping_allocator<U>&) noexcept {}

    T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
    void deallocate(T* p, std::size_t n) noexcept {
        OPENSSL_cleanse(p, n * sizeof(T));
        std::allocator<T>{}.deallocate(p, n);
    }

    template <class U>
    friend bool operator==(const wiping_allocator&, const wiping_allocator<U>&) noexcept {
        return true;
    }
};

}  // namespace billpay::memory
