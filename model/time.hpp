#pragma once

#include <chrono>
#include <string>

namespace billpay::model {

/// `time` as RFC 3339 in UTC with milliseconds ("2026-11-26T17:39:16.922Z"): the form of every
/// timestamp billpayd shows (API answers, receipts, logs), and the form the store reads its
/// timestamps back in, so that a time written from here reads back identical.
std::string rfc3339_utc(std::chrono::system_clock::time_point time);

}  // namespace billpay::model
