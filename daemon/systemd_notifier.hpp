#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace billpay::daemon {

/// Speaks systemd's notify protocol (libsystemd's sd_notify) when billpayd runs as a
/// Type=notify service. Without NOTIFY_SOCKET every call does nothing.
class systemd_notifier {
  public:
    void ready() const;
    void reloading() const;  // sends RELOADING=1 with MONOTONIC_USEC, as systemd 253 expects
    void stopping() const;
    void status(std::string_view text) const;
    void watchdog() const;

    /// Half of WATCHDOG_USEC when the unit has WatchdogSec= and the variable is meant for us.
    [[nodiscard]] static std::optional<std::chrono::microseconds> watchdog_interval();
};

}  // namespace billpay::daemon
