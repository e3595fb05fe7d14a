#pragma once

#include <filesystem>
#include <string>

namespace billpay::test {

/// A fresh folder under /tmp, removed with everything in it when the object goes.
class temp_dir {
  public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const { return path_; }
    [[nodiscard]] std::filesystem::path operator/(const std::string& name) const {
        return path_ / name;
    }

  private:
    std::filesystem::path path_;
};

/// Writes `text` to `file`, replacing it.
void write_file(const std::filesystem::path& file, const std::string& text);

/// The whole content of `file`.
std::string read_file(const std::filesystem::path& file);

/// Runs a shell command, returns its exit status; throws if it cannot be started.
int run_command(const std::string& command);

/// Runs a shell command and returns what it printed on stdout.
std::string capture_command(const std::string& command);

/// The repository's root folder (compiled in), for scripts the tests call.
std::filesystem::path source_dir();

}  // namespace billpay::test
