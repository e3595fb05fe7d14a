#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace billpay::model {

/// `time` as RFC 3339 in UTC with milliseconds ("2026-11-26T17:39:16.922Z"): the form of every
/// timestamp billpayd shows (API answers, receipts, logs), and the form the store reads its
/// timestamps back in, so that a time written from here reads back identical.
std::string rfc3339_utc(std::chrono::system_clock::time_point time);

/// The instant an RFC 3339 UTC time names ("2026-11-26T17:39:16.922Z", fraction optional, "Z"
/// required: billpayd's own times and Authorize.Net's *UTC fields), to the millisecond; nullopt
/// for anything else.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339_utc(std::string_view text);

/// The day a "YYYY-MM-DD" names (a bill's due date, a report's range: the utility's days), or
/// nullopt when it is not one (2026-02-30, 26-11-2026, anything after the day). Leading text of
/// a longer string is not read as a day.
std::optional<std::chrono::sys_days> parse_date(std::string_view text);

/// "YYYY-MM-DD".
std::string format_date(std::chrono::sys_days day);

/// Whether `text` is exactly a real day, "YYYY-MM-DD".
inline bool valid_date(std::string_view text) {
    return text.size() == 10 && parse_date(text).has_value();
}

}  // namespace billpay::model
