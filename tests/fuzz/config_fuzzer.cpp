// libFuzzer: the YAML config loader, as billpayd and billpayctl read it. Any file is a config
// or a list of problems with their places (FILE:LINE:COL), never a crash or a hang.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "config/load.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // An in-memory file, named as the loader wants a path.
    static const int fd = memfd_create("billpayd.yaml", 0);
    if (fd < 0 || ftruncate(fd, 0) != 0 ||
        pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) {
        return 0;
    }
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    for (auto who : {billpay::config::reader::daemon, billpay::config::reader::billpayctl}) {
        try {
            auto settings = billpay::config::load(path, who);
            (void)settings;
        } catch (const billpay::config::invalid_config& e) {
            if (e.problems().empty()) {
                std::abort();  // refused without saying why
            }
        }
    }
    return 0;
}
