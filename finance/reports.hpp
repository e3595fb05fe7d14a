#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "store/settlements.hpp"

namespace billpay::finance {

/// Daily totals per day and processor, and the reconciliation exceptions of those days.
struct daily_report {
    std::string from;
    std::string to;
    std::string time_zone;
    std::vector<store::daily_total> days;
    std::vector<store::reconciliation_item> exceptions;
};

/// The daily report over [from, to] (days in `time_zone`), read from the store.
boost::asio::awaitable<store::result<daily_report>> load_daily_report(
    store::settlement_store& records, const std::string& from, const std::string& to,
    const std::string& time_zone);

/// {"object": "daily_report", "from", "to", "time_zone", "days": [{"day", "processor",
///  "currency", "payments": {"count", "amount"}, "refunds": {"count", "amount"}, "fees", "net"}],
///  "totals": [...per currency], "exceptions": [...]} — amounts in minor units, as the API's.
boost::json::object report_json(const daily_report& report);

/// Two CSV tables, separated by an empty line: the daily totals (amounts as decimal major units),
/// then the exceptions. docs/finance.md documents the columns.
std::string report_csv(const daily_report& report);

/// One self-contained HTML page (no scripts, no external assets): a bar chart of daily payments
/// and refunds (inline SVG), the totals table and the exceptions table.
std::string report_html(const daily_report& report);

/// The day's journal lines for the general ledger, balanced (debits = credits) per currency:
/// journal_date,account,debit,credit,currency,memo — payments received (Dr clearing, Cr
/// receivable), refunds (Dr receivable, Cr clearing), fees (Dr fees, Cr clearing).
std::string general_ledger_csv(const std::string& date, const std::vector<store::daily_total>& day,
                               const config::finance_settings::gl_accounts& accounts);

/// A reconciliation run as the API shows it.
boost::json::object reconciliation_json(const store::reconciliation_run& run);

}  // namespace billpay::finance
