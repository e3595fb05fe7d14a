#include "model/ids.hpp"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <stdexcept>

namespace billpay::model {
namespace {

template <std::size_t N>
std::array<unsigned char, N> random_bytes() {
    std::array<unsigned char, N> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(N)) != 1) {
        throw std::runtime_error("the system random number generator failed");
    }
    return bytes;
}

template <std::size_t N>
std::string base32(const std::array<unsigned char, N>& bytes, const char* alphabet,
                   std::size_t max_chars) {
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (unsigned char b : bytes) {
        buffer = (buffer << 8) | b;
        bits += 8;
        while (bits >= 5 && out.size() < max_chars) {
            out.push_back(alphabet[(buffer >> (bits - 5)) & 31]);
            bits -= 5;
        }
    }
    if (bits > 0 && out.size() < max_chars) {
        out.push_back(alphabet[(buffer << (5 - bits)) & 31]);
    }
    return out;
}

}  // namespace

std::string new_id(std::string_view prefix) {
    return std::string(prefix) + "_" +
           base32(random_bytes<16>(), "abcdefghijklmnopqrstuvwxyz234567", 26);
}

std::string id_for_key(std::string_view prefix, std::string_view seed) {
    std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
    SHA256(reinterpret_cast<const unsigned char*>(seed.data()), seed.size(), digest.data());
    return std::string(prefix) + "_" + base32(digest, "abcdefghijklmnopqrstuvwxyz234567", 26);
}

std::string new_confirmation_code() {
    auto code = base32(random_bytes<7>(), "0123456789ABCDEFGHJKMNPQRSTVWXYZ", 10);
    return code.substr(0, 5) + "-" + code.substr(5, 5);
}

}  // namespace billpay::model
