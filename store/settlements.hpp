#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "store/audit.hpp"
#include "store/errors.hpp"

namespace billpay::store {

class database;

/// One line of what a processor settled, in minor units (docs/finance.md).
struct settlement_line {
    std::string line_id;     // the processor's id of the line (Stripe: balance_transaction_id)
    std::string settled_at;  // RFC 3339
    std::string kind;        // charge, refund, fee, payout, adjustment, other
    std::string reference;   // the charge's processor reference
    std::string refund_reference;
    std::string currency;  // upper case
    std::int64_t gross = 0;
    std::int64_t fee = 0;
    std::int64_t net = 0;
    std::string payout_id;
    int source_line = 0;  // where the file had it (1-based; 0: not from a file). Not stored
    std::string day;      // read for reconciliation: settled_at's day in payments.time_zone
};

/// A line the processor reported before with other content: a restatement nobody may skip.
struct line_conflict {
    std::string line_id;
    int source_line = 0;
    std::string fields;          // those that differ, e.g. "gross, net"
    std::string earlier_import;  // the import that brought the first version
};

struct import_result {
    bool already_imported = false;  // the same content was imported before: nothing changed
    std::string import_id;
    int inserted = 0;
    int skipped = 0;  // lines already known, identical, from an earlier import
    /// Lines already known with other content: when any, nothing was imported.
    std::vector<line_conflict> conflicts;
};

/// Imports lines keyed by the content's hash, all in one transaction with its audit row.
import_result import_settlement(pqxx::connection& conn, const std::string& import_id,
                                const std::string& processor, const std::string& format,
                                const std::string& source, const std::string& content_sha256,
                                const std::vector<settlement_line>& lines,
                                const audit_entry& audit);

// Dates below are calendar days (YYYY-MM-DD, inclusive) in `time_zone`, the utility's IANA
// time zone (config payments.time_zone): finance's days are the utility's.

/// Lines settled on the given days.
std::vector<settlement_line> lines_settled_between(pqxx::connection& conn, const std::string& from,
                                                   const std::string& to,
                                                   const std::string& time_zone);
/// Every line (any date) naming one of these charge references.
std::vector<settlement_line> lines_for_references(pqxx::connection& conn,
                                                  const std::vector<std::string>& references,
                                                  const std::string& time_zone);

/// What reconciliation compares against: a succeeded (or refunded) payment or a refund.
struct ledger_payment {
    std::string id;
    std::string processor;
    std::string reference;  // processor_reference
    std::string currency;
    std::int64_t amount = 0;
    std::int64_t voided = 0;  // of which voided (never settles)
    std::string created_at;   // RFC 3339
    std::string day;          // the day it was made, YYYY-MM-DD in payments.time_zone
};
struct ledger_refund {
    std::string id;
    std::string payment_id;
    std::string processor;
    std::string reference;         // the refund's processor reference
    std::string charge_reference;  // the payment's
    std::string currency;
    std::int64_t amount = 0;
    std::string kind;  // refund or void
    std::string created_at;
    std::string day;  // the day it was made, YYYY-MM-DD in payments.time_zone
};
/// Payments that took money (succeeded, partially_refunded, refunded) created on the given days,
/// or whose processor reference is in `references`.
std::vector<ledger_payment> ledger_payments(pqxx::connection& conn, const std::string& from,
                                            const std::string& to, const std::string& time_zone,
                                            const std::vector<std::string>& references);
/// Succeeded refunds created on the given days, or whose reference is in `references`.
std::vector<ledger_refund> ledger_refunds(pqxx::connection& conn, const std::string& from,
                                          const std::string& to, const std::string& time_zone,
                                          const std::vector<std::string>& references);

/// One finding of a reconciliation run.
struct reconciliation_item {
    std::string item_class;  // matched, amount_mismatch, unknown_to_billpayd, not_settled, …
    bool is_exception = false;
    std::string processor;
    std::string reference;
    std::string payment_id;
    std::string refund_id;
    std::string line_id;
    std::optional<std::int64_t> expected;
    std::optional<std::int64_t> actual;
    std::string currency;
    std::string day;  // YYYY-MM-DD
    std::string message;
};
struct reconciliation_run {
    std::string id;  // rec_…
    std::string date_from;
    std::string date_to;
    std::string run_by;
    std::string started_at;
    int matched = 0;
    int exceptions = 0;
    std::string summary_json = "{}";
    std::vector<reconciliation_item> items;
};

/// Stores a run and its items with its audit row, in one transaction.
void save_reconciliation(pqxx::connection& conn, const reconciliation_run& run,
                         const audit_entry& audit);
std::optional<reconciliation_run> find_reconciliation(pqxx::connection& conn,
                                                      const std::string& id);
/// The exceptions of the newest run of each date range that overlaps [from, to].
std::vector<reconciliation_item> latest_exceptions(pqxx::connection& conn, const std::string& from,
                                                   const std::string& to);

/// Daily totals per day and processor, for reports and the general ledger.
struct daily_total {
    std::string day;
    std::string processor;
    std::string currency;
    std::int64_t payments_count = 0;
    std::int64_t payments_sum = 0;
    std::int64_t refunds_count = 0;
    std::int64_t refunds_sum = 0;
    std::int64_t fees = 0;  // from settlement lines settled that day
    /// payments_count by origin (model::payment_origin): the portal's, scheduled, AutoPay's.
    std::int64_t scheduled_count = 0;
    std::int64_t autopay_count = 0;
    [[nodiscard]] std::int64_t portal_count() const {
        return payments_count - scheduled_count - autopay_count;
    }
    [[nodiscard]] std::int64_t net() const { return payments_sum - refunds_sum - fees; }
};
std::vector<daily_total> daily_totals(pqxx::connection& conn, const std::string& from,
                                      const std::string& to, const std::string& time_zone);

/// What one reconciliation compares (finance/reconcile.hpp), read in one go.
struct reconciliation_sources {
    std::string today;  // YYYY-MM-DD in the time zone
    std::vector<settlement_line> lines;
    std::vector<ledger_payment> payments;
    std::vector<ledger_refund> refunds;
    std::vector<settlement_line> other_lines;  // any date, naming billpayd's references
};

/// Settlements, reconciliation runs and daily totals for the folders above the store.
class settlement_store {
  public:
    virtual ~settlement_store() = default;

    virtual boost::asio::awaitable<result<import_result>> import(
        const std::string& import_id, const std::string& processor, const std::string& format,
        const std::string& source, const std::string& content_sha256,
        const std::vector<settlement_line>& lines, const audit_entry& audit) = 0;
    /// Lines settled on the days, the payments and refunds they or the days name, and every
    /// line naming those payments and refunds.
    virtual boost::asio::awaitable<result<reconciliation_sources>> reconciliation_input(
        const std::string& from, const std::string& to, const std::string& time_zone) = 0;
    virtual boost::asio::awaitable<result<void>> save_reconciliation(const reconciliation_run& run,
                                                                     const audit_entry& audit) = 0;
    virtual boost::asio::awaitable<result<std::optional<reconciliation_run>>> find_reconciliation(
        const std::string& id) = 0;
    /// Daily totals and the newest exceptions over the days.
    virtual boost::asio::awaitable<
        result<std::pair<std::vector<daily_total>, std::vector<reconciliation_item>>>>
    daily(const std::string& from, const std::string& to, const std::string& time_zone) = 0;
    /// The `n` days before today in `time_zone`, as (first, last) YYYY-MM-DD.
    virtual boost::asio::awaitable<result<std::pair<std::string, std::string>>> days_before_today(
        const std::string& time_zone, int n) = 0;
};

/// settlement_store on PostgreSQL.
class settlement_records final : public settlement_store {
  public:
    explicit settlement_records(database& db) : db_(db) {}

    boost::asio::awaitable<result<import_result>> import(
        const std::string& import_id, const std::string& processor, const std::string& format,
        const std::string& source, const std::string& content_sha256,
        const std::vector<settlement_line>& lines, const audit_entry& audit) override;
    boost::asio::awaitable<result<reconciliation_sources>> reconciliation_input(
        const std::string& from, const std::string& to, const std::string& time_zone) override;
    boost::asio::awaitable<result<void>> save_reconciliation(const reconciliation_run& run,
                                                             const audit_entry& audit) override;
    boost::asio::awaitable<result<std::optional<reconciliation_run>>> find_reconciliation(
        const std::string& id) override;
    boost::asio::awaitable<
        result<std::pair<std::vector<daily_total>, std::vector<reconciliation_item>>>>
    daily(const std::string& from, const std::string& to, const std::string& time_zone) override;
    boost::asio::awaitable<result<std::pair<std::string, std::string>>> days_before_today(
        const std::string& time_zone, int n) override;

  private:
    database& db_;
};

}  // namespace billpay::store
