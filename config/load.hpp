#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/settings.hpp"

namespace billpay::config {

/// One thing wrong with a config file, with the place it stands.
struct problem {
    std::string file;
    int line = 0;          // 1-based; 0 when the file could not be read at all
    int column = 0;        // 1-based
    std::string key_path;  // e.g. "listen.tls.certificate", "clients[1].role"
    std::string message;

    /// "FILE:LINE:COL: key.path: message", the form --check-config prints.
    [[nodiscard]] std::string to_string() const;
};

/// Thrown by load() with every problem found, not just the first.
class invalid_config : public std::runtime_error {
  public:
    explicit invalid_config(std::vector<problem> problems);
    [[nodiscard]] const std::vector<problem>& problems() const noexcept { return problems_; }

  private:
    std::vector<problem> problems_;
};

/// Reads and validates the YAML config file. Unknown keys are errors; relative paths are taken
/// from the config file's folder; a `*_file` key whose value is relative is looked up in
/// $CREDENTIALS_DIRECTORY first. Throws invalid_config listing every problem.
/// Who reads the config: the daemon needs every secret; billpayctl never serves TLS nor keys
/// card fingerprints, so it neither reads nor needs the TLS private key and the fingerprint key
/// (its systemd units do not load those credentials at all).
enum class reader { daemon, billpayctl };

settings load(const std::filesystem::path& file, reader who = reader::daemon);

/// Parses a SHA-256 API key hash as written in the config: "sha256:" and 64 hex digits.
bool parse_api_key_hash(std::string_view text, std::array<std::uint8_t, 32>& out);

}  // namespace billpay::config
