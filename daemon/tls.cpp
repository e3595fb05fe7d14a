#include "daemon/tls.hpp"

#include <openssl/ssl.h>

#include <boost/system/system_error.hpp>

namespace billpay::daemon {
namespace {

// Mozilla Server Side TLS, "intermediate" configuration (version 5.7).
constexpr const char* intermediate_tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";
constexpr const char* intermediate_tls13_suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* intermediate_groups = "X25519:prime256v1:secp384r1";

void require(int ok, const char* what) {
    if (ok != 1) {
        throw tls_setup_error(std::string("TLS setup failed: ") + what);
    }
}

}  // namespace

std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(
    const config::tls_settings& settings) {
    namespace ssl = boost::asio::ssl;
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    SSL_CTX* native = ctx->native_handle();

    require(SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION), "minimum protocol version");
    SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                    SSL_OP_CLEANSE_PLAINTEXT | SSL_OP_SINGLE_DH_USE);
    require(SSL_CTX_set_cipher_list(native, intermediate_tls12_ciphers), "TLS 1.2 cipher list");
    require(SSL_CTX_set_ciphersuites(native, intermediate_tls13_suites), "TLS 1.3 cipher suites");
    require(SSL_CTX_set1_groups_list(native, intermediate_groups), "key exchange groups");
    require(static_cast<int>(SSL_CTX_set_dh_auto(native, 1)), "DHE parameters");

    boost::system::error_code ec;
    ctx->use_certificate_chain_file(settings.certificate.string(), ec);
    if (ec) {
        throw tls_setup_error("cannot use certificate " + settings.certificate.string() + ": " +
                              ec.message());
    }
    ctx->use_private_key_file(settings.private_key.string(), ssl::context::pem, ec);
    if (ec) {
        throw tls_setup_error("cannot use private key " + settings.private_key.string() + ": " +
                              ec.message());
    }
    if (SSL_CTX_check_private_key(native) != 1) {
        throw tls_setup_error("private key " + settings.private_key.string() +
                              " does not match certificate " + settings.certificate.string());
    }
    if (settings.client_ca) {
        ctx->load_verify_file(settings.client_ca->string(), ec);
        if (ec) {
            throw tls_setup_error("cannot use client CA " + settings.client_ca->string() + ": " +
                                  ec.message());
        }
        // Tell clients which CA we accept, so they pick the right certificate.
        if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(settings.client_ca->c_str())) {
            SSL_CTX_set_client_CA_list(native, names);
        }
        ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    } else {
        ctx->set_verify_mode(ssl::verify_none);
    }
    return ctx;
}

}  // namespace billpay::daemon
