#pragma once

#include <memory>
#include <string>

#include "gateway_adapters/stripe/stripe_gateway.hpp"
#include "tests/e2e/payments_fixture.hpp"
#include "tests/fakes/stripe_server.hpp"

namespace billpay::test {

inline const std::string stripe_secret_key = "sk_test_billpay_fake_0123456789abcdef";

/// billpayd configured with gateway.processor: stripe, against the fake Stripe (short deadlines
/// and recovery delays, so that tests of lost answers run in seconds).

/// The config's gateway section for the fake Stripe.
inline std::string stripe_gateway_yaml(const stripe_server& stripe, const tls_files& ca) {
    return "gateway:\n"
           "  processor: stripe\n"
           "  timeout_ms: 500\n"
           "  stripe:\n"
           "    api_base: " +
           stripe.api_base() +
           "\n"
           "    secret_key: \"" +
           stripe_secret_key +
           "\"\n"
           "    ca_file: " +
           ca.certificate.string() +
           "\n"
           "    timeout_ms: 500\n";
}

class Stripe : public payments_fixture {
  protected:
    void SetUp() override {
        payments_fixture::SetUp();
        stripe_cert = make_certificate(dir.path(), "stripe", "localhost", ca);
        stripe = std::make_unique<stripe_server>(stripe_cert, stripe_secret_key,
                                                 gateway::stripe::api_version);
        config.extra_root = clients_yaml() + stripe_gateway_yaml(*stripe, ca) +
                            payments_yaml(1500, 20) +
                            "finance:\n  refund_recovery_after_ms: 1500\n";
    }

    tls_files stripe_cert;
    std::unique_ptr<stripe_server> stripe;
};

}  // namespace billpay::test
