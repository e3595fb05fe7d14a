#include "daemon/tls.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/system/system_error.hpp>
#include <cstring>
#include <fstream>
#include <iterator>

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

/// Where a context keeps the ring that seals its tickets (a heap shared_ptr, freed with it).
int ring_index() {
    static const int index = SSL_CTX_get_ex_new_index(
        0, nullptr, nullptr, nullptr, [](void*, void* held, CRYPTO_EX_DATA*, int, long, void*) {
            delete static_cast<std::shared_ptr<ticket_key_ring>*>(held);
        });
    return index;
}

/// The session id context: sessions resume only under the client CA that verified them (a
/// reload to another CA makes every client show its certificate again). OpenSSL refuses to
/// resume a session with a verified peer when no context is set, failing the handshake of
/// every client that offers one.
void set_session_id_context(SSL_CTX* native, const config::tls_settings& settings) {
    std::string basis = "billpayd";
    if (settings.client_ca) {
        std::ifstream in(*settings.client_ca, std::ios::binary);
        basis.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(basis.data()), basis.size(), digest);
    static_assert(sizeof digest <= SSL_MAX_SID_CTX_LENGTH);
    require(SSL_CTX_set_session_id_context(native, digest, sizeof digest), "session id context");
}

}  // namespace

void ticket_key_ring::key::wipe() {
    OPENSSL_cleanse(name, sizeof name);
    OPENSSL_cleanse(cipher, sizeof cipher);
    OPENSSL_cleanse(mac, sizeof mac);
    live = false;
}

ticket_key_ring::~ticket_key_ring() {
    for (auto& slot : slots_) {
        slot.wipe();
    }
}

void ticket_key_ring::install(SSL_CTX* context, const std::shared_ptr<ticket_key_ring>& self) {
    require(SSL_CTX_set_ex_data(context, ring_index(), new std::shared_ptr<ticket_key_ring>(self)),
            "session ticket keys");
    require(static_cast<int>(SSL_CTX_set_tlsext_ticket_key_evp_cb(context, &on_ticket)),
            "session ticket callback");
    // A session outlives neither key that could open its ticket.
    SSL_CTX_set_timeout(context, static_cast<long>(2 * period_.count() / 1000));
}

int ticket_key_ring::on_ticket(SSL* ssl, unsigned char* name, unsigned char* iv,
                               EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int seal) {
    auto* held = static_cast<std::shared_ptr<ticket_key_ring>*>(
        SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ring_index()));
    if (held == nullptr) {
        return -1;
    }
    return seal != 0 ? (*held)->seal(name, iv, cipher, mac) : (*held)->open(name, iv, cipher, mac);
}

void ticket_key_ring::expire(std::chrono::steady_clock::time_point now) {
    for (auto& slot : slots_) {
        if (slot.live && now - slot.made >= 2 * period_) {
            slot.wipe();
        }
    }
    if (newest_ >= 0 && !slots_[newest_].live) {
        newest_ = -1;
    }
}

namespace {

bool key_ciphers(EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, unsigned char* cipher_key,
                 unsigned char* mac_key, const unsigned char* iv, bool seal) {
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, mac_key, 32),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
        OSSL_PARAM_construct_end()};
    const int ok = seal ? EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, cipher_key, iv)
                        : EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, cipher_key, iv);
    return ok == 1 && EVP_MAC_CTX_set_params(mac, params) == 1;
}

}  // namespace

int ticket_key_ring::seal(unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                          EVP_MAC_CTX* mac) {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    expire(now);
    if (newest_ < 0 || now - slots_[newest_].made >= period_) {
        // Rotate: the new key takes the slot of the one before the newest, wiped first.
        const int next = newest_ < 0 ? 0 : 1 - newest_;
        key& fresh = slots_[next];
        fresh.wipe();
        if (RAND_bytes(fresh.name, sizeof fresh.name) != 1 ||
            RAND_priv_bytes(fresh.cipher, sizeof fresh.cipher) != 1 ||
            RAND_priv_bytes(fresh.mac, sizeof fresh.mac) != 1) {
            fresh.wipe();
            return -1;
        }
        fresh.made = now;
        fresh.live = true;
        newest_ = next;
    }
    key& current = slots_[newest_];
    if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(EVP_aes_256_cbc())) != 1) {
        return -1;
    }
    std::memcpy(name, current.name, sizeof current.name);
    return key_ciphers(cipher, mac, current.cipher, current.mac, iv, true) ? 1 : -1;
}

int ticket_key_ring::open(const unsigned char* name, const unsigned char* iv,
                          EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac) {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    expire(now);
    for (int i = 0; i < 2; ++i) {
        key& k = slots_[i];
        if (!k.live || CRYPTO_memcmp(k.name, name, sizeof k.name) != 0) {
            continue;
        }
        if (!key_ciphers(cipher, mac, k.cipher, k.mac, iv, false)) {
            return -1;
        }
        // Opened by a key that no longer seals: OpenSSL issues a new ticket under the newest.
        const bool sealing = i == newest_ && now - k.made < period_;
        return sealing ? 1 : 2;
    }
    return 0;  // unknown or expired key: a full handshake
}

std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(
    const config::tls_settings& settings, const std::shared_ptr<ticket_key_ring>& tickets) {
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
    set_session_id_context(native, settings);
    tickets->install(native, tickets);
    return ctx;
}

std::optional<std::int64_t> certificate_expiry(const boost::asio::ssl::context& context) {
    // SSL_CTX_get0_certificate takes a non-const context but only reads it.
    X509* certificate =
        SSL_CTX_get0_certificate(const_cast<boost::asio::ssl::context&>(context).native_handle());
    if (certificate == nullptr) {
        return std::nullopt;
    }
    std::tm not_after{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(certificate), &not_after) != 1) {
        return std::nullopt;
    }
    return static_cast<std::int64_t>(timegm(&not_after));
}

}  // namespace billpay::daemon
