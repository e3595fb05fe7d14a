#include "daemon/request_id.hpp"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace billpay::daemon {

std::string new_request_id() {
    std::array<unsigned char, 16> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        throw std::runtime_error("the system random number generator failed");
    }
    static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    std::string out = "req_";
    unsigned buffer = 0;
    int bits = 0;
    for (unsigned char b : bytes) {
        buffer = (buffer << 8) | b;
        bits += 8;
        while (bits >= 5) {
            out.push_back(alphabet[(buffer >> (bits - 5)) & 31]);
            bits -= 5;
        }
    }
    if (bits > 0) {
        out.push_back(alphabet[(buffer << (5 - bits)) & 31]);
    }
    return out;
}

}  // namespace billpay::daemon
