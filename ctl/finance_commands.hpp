#pragma once

#include <optional>
#include <string>

#include "config/settings.hpp"
#include "ctl/command_session.hpp"

namespace billpay::ctl {

// finance staff's commands (docs/finance.md). Each returns the process's exit code: 0 done,
// 1 refused or failed (the reason on stderr), 3 where the command says (pending refund,
// reconciliation exceptions). Every one that acts or exports is in the audit trail as
// "billpayctl:<user>" from "host:<name>".

struct refund_options {
    std::string payment_id;
    std::optional<std::int64_t> amount;
    std::string reason;
    std::string idempotency_key;  // optional: the same key never refunds twice
};
int refund(const config::settings& settings, const refund_options& options);

struct import_options {
    std::string processor;  // stripe, authorizenet, or any processor's name with format generic
    std::string format;     // stripe (itemized report), generic; "" = by processor
    std::string file;
    std::string from;  // authorizenet: settlement dates to pull
    std::string to;
    std::string reason;
};
int import_settlements(const config::settings& settings, const import_options& options);

int reconcile(const config::settings& settings, const std::string& from, const std::string& to,
              const std::string& today);

int report_daily(const config::settings& settings, const std::string& from, const std::string& to,
                 const std::string& format, const std::string& output);
int report_gl(const config::settings& settings, const std::string& date, const std::string& output);

int audit_list(const config::settings& settings, const std::string& record, int limit);

/// The `n` days before today in the utility's time zone, as (from, to): for --last-days.
std::pair<std::string, std::string> last_days(const config::settings& settings, int n);

}  // namespace billpay::ctl
