// The receipt webhook's signature, as the correspondence system checks it.
#include "correspondence/signature.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

using billpay::correspondence::signature_check;
using billpay::correspondence::signature_header;
using billpay::correspondence::verify_signature;

constexpr const char* secret = "whsec_test_0123456789abcdef";
constexpr std::time_t now = 1'795'714'756;

TEST(ReceiptSignature, WhatBillpaydSignsVerifiesAndNothingElseDoes) {
    const std::string body = R"({"type":"payment.receipt","amount":"125.00"})";
    const auto header = signature_header(secret, now, body);
    EXPECT_EQ(verify_signature(secret, header, body, now + 10), signature_check::valid);
    // Another body, another secret, a byte changed in the signature: refused.
    EXPECT_EQ(verify_signature(secret, header, body + " ", now), signature_check::mismatch);
    EXPECT_EQ(verify_signature("whsec_other", header, body, now), signature_check::mismatch);
    auto tampered = header;
    tampered.back() = tampered.back() == '0' ? '1' : '0';
    EXPECT_EQ(verify_signature(secret, tampered, body, now), signature_check::mismatch);
    // A replay six minutes later, or a clock far ahead: stale.
    EXPECT_EQ(verify_signature(secret, header, body, now + 360), signature_check::stale);
    EXPECT_EQ(verify_signature(secret, header, body, now - 360), signature_check::stale);
}

TEST(ReceiptSignature, ASecondV1ForARotatedSecretIsAcceptedAndMalformedHeadersAreNamed) {
    const std::string body = "{}";
    const auto old_header = signature_header("whsec_old", now, body);
    const auto rotated = signature_header(secret, now, body) +
                         ",v1=" + old_header.substr(old_header.find(",v1=") + 4);
    EXPECT_EQ(verify_signature(secret, rotated, body, now), signature_check::valid);
    EXPECT_EQ(verify_signature("whsec_old", rotated, body, now), signature_check::valid);
    for (const std::string& bad :
         std::vector<std::string>{"", "t=", "v1=abc", "t=12x,v1=" + std::string(64, 'a'),
                                  "t=1,t=2,v1=" + std::string(64, 'a'), "garbage",
                                  "t=" + std::to_string(now) + ",v1=short"}) {
        EXPECT_EQ(verify_signature(secret, bad, body, now), signature_check::malformed) << bad;
    }
}

}  // namespace
