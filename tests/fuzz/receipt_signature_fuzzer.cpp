// libFuzzer: the receipt signature check (correspondence::verify_signature). The input is a
// header, a newline and a body. Any header is valid, stale, mismatched or malformed, never a
// crash; and what billpayd signs for that body always verifies.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "correspondence/signature.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace billpay::correspondence;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto newline = input.find('\n');
    const auto header = input.substr(0, newline);
    const auto body =
        newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
    constexpr std::time_t now = 1'795'714'756;
    const auto verdict = verify_signature("whsec_fuzz", header, body, now);
    if (verdict == signature_check::valid && header.find("v1=") == std::string_view::npos) {
        std::abort();  // valid without any signature
    }
    if (verify_signature("whsec_fuzz", signature_header("whsec_fuzz", now, body), body, now) !=
        signature_check::valid) {
        std::abort();
    }
    return 0;
}
