#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "model/actor.hpp"
#include "store/settlements.hpp"

namespace billpay::finance {

/// What a reconciliation run compares (docs/finance.md).
struct reconcile_input {
    std::string from;  // YYYY-MM-DD, inclusive
    std::string to;
    std::string today;  // the day the run judges "settled yet?" from
    int settlement_days = 3;
    std::vector<store::settlement_line> lines;        // settled on the run's days
    std::vector<store::settlement_line> other_lines;  // any day, for the references below
    std::vector<store::ledger_payment> payments;      // made on the run's days, or referenced
    std::vector<store::ledger_refund> refunds;
};

/// Matches settlement lines to payments and refunds by processor reference and classifies every
/// difference. Classes (is_exception in brackets):
///   matched, refund_matched                      a line and a record agree                 [no]
///   amount_mismatch                              same reference, other amount              [yes]
///   unknown_to_billpayd                          settled, but billpayd has no such payment [yes]
///   refund_unknown_to_billpayd                   a refund settled that billpayd never made [yes]
///   duplicate                                    a reference settled more than once        [yes]
///   not_settled                                  succeeded settlement_days ago, no line    [yes]
///   refund_not_settled                           refunded settlement_days ago, no line     [yes]
///   awaiting_settlement, refund_awaiting_settlement   younger than that                    [no]
///   voided                                       voided before settlement: nothing due     [no]
/// The summary holds the count of each class and the fee totals per payout.
store::reconciliation_run reconcile(const reconcile_input& input, const std::string& run_id,
                                    const std::string& run_by);

/// One reconciliation run over [from, to] (days in the utility's time zone): reads what to
/// compare, classifies it (judging "not settled yet" as of `today`, or today when empty), and
/// stores the run with every item and its audit row (reconciliation.run).
boost::asio::awaitable<store::result<store::reconciliation_run>> run_reconciliation(
    store::settlement_store& records, const config::settings& settings, const std::string& from,
    const std::string& to, const std::string& today, const model::actor& who);

/// Days from one YYYY-MM-DD (or the date part of an RFC 3339 time) to another; nullopt if either
/// is not a date.
std::optional<int> days_between(std::string_view from, std::string_view to);

}  // namespace billpay::finance
