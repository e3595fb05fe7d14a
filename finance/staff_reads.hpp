#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "finance/reader.hpp"
#include "finance/reports.hpp"
#include "model/payment.hpp"
#include "model/payment_method.hpp"
#include "model/refund.hpp"
#include "store/audit.hpp"
#include "store/errors.hpp"
#include "store/payment_store.hpp"
#include "store/refunds.hpp"
#include "store/settlements.hpp"

namespace billpay::finance {

/// The rule "a staff read is audited", in one place. Each read returns what was read only after
/// the read is in the audit trail; when the row cannot be appended nothing is shown
/// (store::error::unavailable), because nothing may be seen unrecorded. A customer's own reads
/// (the portal's) are not audited: they are the customer's.
///
/// Every failure here is the store's (a read has no other), so the store's vocabulary is
/// returned as it is.
class staff_reads {
  public:
    staff_reads(store::payment_store& payments, store::refund_store& refunds,
                store::settlement_store& settlements, store::audit_log& audit)
        : payments_(payments), refunds_(refunds), settlements_(settlements), audit_(audit) {}

    /// payments.read
    boost::asio::awaitable<store::result<std::optional<model::payment_record>>> payment(
        const reader& who, const std::string& id);
    /// payments.listed, naming every payment shown and the filter as asked (`asked`).
    boost::asio::awaitable<store::result<store::payment_page>> payments(
        const reader& who, const store::payment_filter& filter, const boost::json::object& asked);
    /// payment_methods.listed
    boost::asio::awaitable<store::result<std::vector<model::payment_method_record>>>
    payment_methods(const reader& who, const std::string& account_number);
    /// refunds.listed: the payment and its refunds, oldest first; no payment (`first` empty) is
    /// not recorded.
    boost::asio::awaitable<store::result<
        std::pair<std::optional<model::payment_record>, std::vector<model::refund_record>>>>
    refunds(const reader& who, const std::string& payment_id);
    /// report.viewed (`format` empty: seen through the API) or report.exported (a file of
    /// `format` written to `output`, "-" for standard output).
    boost::asio::awaitable<store::result<daily_report>> daily(const reader& who,
                                                              const std::string& from,
                                                              const std::string& to,
                                                              const std::string& time_zone,
                                                              const std::string& format = "",
                                                              const std::string& output = "");
    /// report.gl_exported: the day's general-ledger lines, written to `output`.
    boost::asio::awaitable<store::result<daily_report>> general_ledger(const reader& who,
                                                                       const std::string& date,
                                                                       const std::string& time_zone,
                                                                       const std::string& output);
    /// reconciliation.viewed
    boost::asio::awaitable<store::result<std::optional<store::reconciliation_run>>> reconciliation(
        const reader& who, const std::string& id);

  private:
    /// Appends the staff reader's row; true for the portal, which is not recorded.
    boost::asio::awaitable<bool> recorded(const reader& who, std::string action,
                                          std::string records, boost::json::object details);

    store::payment_store& payments_;
    store::refund_store& refunds_;
    store::settlement_store& settlements_;
    store::audit_log& audit_;
};

}  // namespace billpay::finance
