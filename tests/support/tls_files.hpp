#pragma once

#include <filesystem>
#include <string>

namespace billpay::test {

/// A certificate and its key as PEM files.
struct tls_files {
    std::filesystem::path certificate;
    std::filesystem::path key;
};

/// A self-signed CA certificate in `dir` named `name`.crt/.key.
tls_files make_ca(const std::filesystem::path& dir, const std::string& name);

/// A certificate for `common_name` (also its DNS subjectAltName, plus IP 127.0.0.1), signed by
/// `ca`. Each call gives a new key and serial, so two calls are told apart by fingerprint.
tls_files make_certificate(const std::filesystem::path& dir, const std::string& name,
                           const std::string& common_name, const tls_files& ca);

/// A client certificate with the subject `subject` exactly as openssl's -subj takes it (e.g.
/// "/CN=a/CN=b"), no subjectAltName, signed by `ca`.
tls_files make_certificate_with_subject(const std::filesystem::path& dir, const std::string& name,
                                        const std::string& subject, const tls_files& ca);

/// The SHA-256 fingerprint of a PEM certificate file, as OpenSSL prints it.
std::string certificate_fingerprint(const std::filesystem::path& certificate);

}  // namespace billpay::test
