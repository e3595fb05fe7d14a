#include "tests/support/tls_files.hpp"

#include <stdexcept>

#include "tests/support/temp_dir.hpp"

namespace billpay::test {
namespace {

void must(const std::string& command) {
    if (run_command(command + " 2>/dev/null") != 0) {
        throw std::runtime_error("failed: " + command);
    }
}

}  // namespace

tls_files make_ca(const std::filesystem::path& dir, const std::string& name) {
    tls_files ca{dir / (name + ".crt"), dir / (name + ".key")};
    must(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
        " -subj /CN=" +
        name +
        " -addext basicConstraints=critical,CA:TRUE"
        " -addext keyUsage=critical,keyCertSign,cRLSign"
        " -keyout " +
        ca.key.string() + " -out " + ca.certificate.string());
    return ca;
}

tls_files make_certificate(const std::filesystem::path& dir, const std::string& name,
                           const std::string& common_name, const tls_files& ca) {
    tls_files cert{dir / (name + ".crt"), dir / (name + ".key")};
    must(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
        " -CA " +
        ca.certificate.string() + " -CAkey " + ca.key.string() + " -subj /CN=" + common_name +
        " -addext subjectAltName=DNS:" + common_name +
        ",IP:127.0.0.1"
        " -addext basicConstraints=critical,CA:FALSE"
        " -keyout " +
        cert.key.string() + " -out " + cert.certificate.string());
    return cert;
}

tls_files make_certificate_with_subject(const std::filesystem::path& dir, const std::string& name,
                                        const std::string& subject, const tls_files& ca) {
    tls_files cert{dir / (name + ".crt"), dir / (name + ".key")};
    must("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -CA " +
         ca.certificate.string() + " -CAkey " + ca.key.string() + " -subj '" + subject +
         "' -addext basicConstraints=critical,CA:FALSE -keyout " + cert.key.string() + " -out " +
         cert.certificate.string());
    return cert;
}

std::string certificate_fingerprint(const std::filesystem::path& certificate) {
    return capture_command("openssl x509 -noout -fingerprint -sha256 -in " + certificate.string());
}

}  // namespace billpay::test
