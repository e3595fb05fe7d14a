#include "correspondence/signature.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <charconv>
#include <stdexcept>
#include <vector>

namespace billpay::correspondence {

std::string signature_header(std::string_view secret, std::time_t timestamp,
                             std::string_view body) {
    std::string t = std::to_string(timestamp);
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* ctx = mac ? EVP_MAC_CTX_new(mac) : nullptr;
    char digest_name[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                           OSSL_PARAM_construct_end()};
    unsigned char digest[EVP_MAX_MD_SIZE];
    std::size_t length = 0;
    bool ok =
        ctx &&
        EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
                     params) == 1 &&
        EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(t.data()), t.size()) == 1 &&
        EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>("."), 1) == 1 &&
        EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(body.data()), body.size()) ==
            1 &&
        EVP_MAC_final(ctx, digest, &length, sizeof digest) == 1;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    if (!ok) {
        throw std::runtime_error("HMAC-SHA256 is not available");
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "t=" + t + ",v1=";
    for (std::size_t i = 0; i < length; ++i) {
        out.push_back(hex[digest[i] >> 4]);
        out.push_back(hex[digest[i] & 0xf]);
    }
    OPENSSL_cleanse(digest, sizeof digest);
    return out;
}

signature_check verify_signature(std::string_view secret, std::string_view header,
                                 std::string_view body, std::time_t now, long tolerance_seconds) {
    std::string_view timestamp;
    std::vector<std::string_view> signatures;
    while (!header.empty()) {
        const auto comma = header.find(',');
        const auto item = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
        const auto eq = item.find('=');
        if (eq == std::string_view::npos) {
            return signature_check::malformed;
        }
        const auto key = item.substr(0, eq);
        const auto value = item.substr(eq + 1);
        if (key == "t") {
            if (!timestamp.empty()) {
                return signature_check::malformed;  // two timestamps: which was signed?
            }
            timestamp = value;
        } else if (key == "v1") {
            signatures.push_back(value);
        }
    }
    long long t = 0;
    const auto [end, ec] =
        std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), t);
    if (timestamp.empty() || timestamp.size() > 12 || ec != std::errc{} ||
        end != timestamp.data() + timestamp.size() || t < 0 || signatures.empty()) {
        return signature_check::malformed;
    }
    const long long age = static_cast<long long>(now) - t;
    if (age > tolerance_seconds || -age > tolerance_seconds) {
        return signature_check::stale;
    }
    const std::string expected = signature_header(secret, static_cast<std::time_t>(t), body);
    const std::string_view expected_v1 =
        std::string_view(expected).substr(expected.find(",v1=") + 4);
    bool matched = false;
    for (const auto& candidate : signatures) {
        if (candidate.size() != 64) {
            return signature_check::malformed;
        }
        // Every candidate is compared, in constant time, whatever the earlier ones gave.
        matched = (CRYPTO_memcmp(candidate.data(), expected_v1.data(), 64) == 0) || matched;
    }
    return matched ? signature_check::valid : signature_check::mismatch;
}

}  // namespace billpay::correspondence
