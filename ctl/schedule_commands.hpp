#pragma once

#include <string>

#include "config/settings.hpp"

namespace billpay::ctl {

struct schedule_run_options {
    std::string date;         // YYYY-MM-DD; "" = today in payments.time_zone
    int parallel = 8;         // charges in flight at once
    int batch = 200;          // items claimed at a time
    int lease_seconds = 600;  // how long a claim stays this run's without news from it
};

/// `billpayctl schedule run`: charges what is due on the day (docs/operations.md, "Scheduled
/// payments and AutoPay"). 0 when the run went through every due item (each paid, failed,
/// retried tomorrow, or pending at the processor); 1 when it stopped early or could not start.
int schedule_run(const config::settings& settings, const schedule_run_options& options);

}  // namespace billpay::ctl
