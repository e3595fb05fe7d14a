#include "daemon/systemd_notifier.hpp"

#include <systemd/sd-daemon.h>

#include <ctime>
#include <string>

namespace billpay::daemon {

void systemd_notifier::ready() const { sd_notify(0, "READY=1\nSTATUS=serving"); }

void systemd_notifier::reloading() const {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    auto usec = static_cast<unsigned long long>(now.tv_sec) * 1'000'000ULL +
                static_cast<unsigned long long>(now.tv_nsec) / 1000ULL;
    std::string message = "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec);
    sd_notify(0, message.c_str());
}

void systemd_notifier::stopping() const { sd_notify(0, "STOPPING=1\nSTATUS=draining"); }

void systemd_notifier::status(std::string_view text) const {
    std::string message = "STATUS=" + std::string(text);
    sd_notify(0, message.c_str());
}

void systemd_notifier::watchdog() const { sd_notify(0, "WATCHDOG=1"); }

std::optional<std::chrono::microseconds> systemd_notifier::watchdog_interval() {
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        return std::chrono::microseconds(usec / 2);
    }
    return std::nullopt;
}

}  // namespace billpay::daemon
