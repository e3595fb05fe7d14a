#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "store/audit.hpp"
#include "store/autopay.hpp"
#include "store/bills.hpp"
#include "store/errors.hpp"
#include "store/payment_methods.hpp"
#include "store/payment_records.hpp"
#include "store/refunds.hpp"
#include "store/scheduled_payments.hpp"

namespace billpay::store {

class database;

// What the privacy policy asks of the records (docs/privacy.md): retention, a customer's own
// data, corrections of the email notices go to, and the accounts a breach touched.

/// How long each kind of record is kept whole (the config's `retention:` section).
using retention_policy = config::retention_settings;

/// What a purge changed (or, for a dry run, would change), by kind of record.
struct purge_counts {
    std::int64_t payments_reduced = 0;
    std::int64_t refunds_reduced = 0;
    std::int64_t idempotency_keys_deleted = 0;
    std::int64_t receipt_bodies_deleted = 0;
    std::int64_t payment_methods_reduced = 0;
    std::int64_t account_contacts_deleted = 0;
    std::int64_t bills_deleted = 0;
    std::int64_t scheduled_payments_reduced = 0;

    [[nodiscard]] std::int64_t total() const noexcept {
        return payments_reduced + refunds_reduced + idempotency_keys_deleted +
               receipt_bodies_deleted + payment_methods_reduced + account_contacts_deleted +
               bills_deleted + scheduled_payments_reduced;
    }
};

/// What a purge would change now, counted without changing anything.
purge_counts count_purgeable(pqxx::connection& conn, const retention_policy& policy);

/// Applies the policy to at most `batch_size` rows of each kind, in one transaction per kind:
/// a purge cut short has committed whole batches and resumes where it stopped. A payment still
/// pending, a refund still pending and an idempotency key still leased are never touched.
purge_counts purge_batch(pqxx::connection& conn, const retention_policy& policy);

/// A saved card as a customer's export shows it.
struct exported_method {
    payment_method_record method;
    std::optional<std::string> deleted_at;
};

/// A message sent (or to be sent) about the account.
struct exported_message {
    std::string id;
    std::string type;
    std::string status;
    std::string created_at;
    std::optional<std::string> delivered_at;
};

/// Everything billpayd holds about one account.
struct account_data {
    std::string account_number;
    std::optional<std::string> contact_email;  // the portal's correction
    std::optional<std::string> contact_updated_at;
    std::vector<payment_record> payments;  // newest first
    std::vector<refund_record> refunds;
    std::vector<exported_method> payment_methods;
    std::vector<exported_message> messages;
    std::vector<bill_record> bills;  // by due date
    std::optional<model::autopay_enrollment> autopay;
    std::vector<scheduled_payment_record> scheduled_payments;  // by pay_on
    std::vector<audit_row> audit;  // rows naming the account or its payments and refunds
};

/// Reads the account's records and appends `audit` (customer.exported) in one transaction: no
/// export goes unaudited, and the export includes every audit row up to its own.
account_data export_account(pqxx::connection& conn, const std::string& account_number,
                            const audit_entry& audit);

/// Whether billpayd holds anything about the account (a payment, a saved card, a contact).
bool account_known(pqxx::connection& conn, const std::string& account_number);

/// The account's corrected email, with when it took effect.
struct account_contact {
    std::string account_number;
    std::string email;
    std::string updated_at;
};

/// Records the email the account's later notices go to, and audits it (account.email_corrected;
/// the address itself is not in the audit trail, which is never purged).
account_contact correct_email(pqxx::connection& conn, const std::string& account_number,
                              const std::string& email, const std::string& updated_by,
                              const audit_entry& audit);

/// An account a breach window touched, with the email its notices go to now ("" when billpayd
/// no longer holds one: retention reduced every payment).
struct affected_account {
    std::string account_number;
    std::string email;
};

/// Accounts whose records were created or changed in [from, to) (payments, refunds, saved
/// cards, contacts), and with `from_audit`, also those named by audit rows of the window (reads
/// included). Audited as breach.scoped (with counts, no addresses).
std::vector<affected_account> breach_scope(pqxx::connection& conn, const std::string& from,
                                           const std::string& to, bool from_audit,
                                           const audit_entry& audit);

/// One breach notice to queue: the recipient's address and its rendered message.
struct breach_notice {
    std::string email;
    std::string message_id;
    std::string body;
};

/// Queues the notices through the outbox, at most one per incident and address (lower-cased)
/// however often it is called; returns how many were new. Audited as breach.notified. With
/// `dry_run`, counts the new ones and writes nothing.
std::int64_t queue_breach_notices(pqxx::connection& conn, const std::string& incident_id,
                                  const std::vector<breach_notice>& notices, bool dry_run,
                                  const audit_entry& audit);

/// The processor tokens something may still use: live saved cards', pending payments', and
/// those of payments made in the last `window_ms` (a request may still be finishing with its
/// token). `billpayctl processor purge-profiles` keeps every customer record these name.
std::vector<std::string> processor_tokens_in_use(pqxx::connection& conn,
                                                 const std::string& processor,
                                                 std::int64_t window_ms);

/// Retention, a customer's export, email corrections, a breach's scope and notices, and the
/// processor tokens in use, for the folders above the store.
class privacy_store {
  public:
    virtual ~privacy_store() = default;

    virtual boost::asio::awaitable<result<purge_counts>> count_purgeable(
        retention_policy policy) = 0;
    virtual boost::asio::awaitable<result<purge_counts>> purge_batch(retention_policy policy) = 0;
    virtual boost::asio::awaitable<result<void>> audit(audit_entry entry) = 0;
    /// error::not_found when billpayd holds nothing about the account.
    virtual boost::asio::awaitable<result<account_data>> export_account(std::string account_number,
                                                                        audit_entry audit) = 0;
    virtual boost::asio::awaitable<result<account_contact>> correct_email(
        std::string account_number, std::string email, std::string updated_by,
        audit_entry audit) = 0;
    /// error::invalid_argument when PostgreSQL cannot read a time.
    virtual boost::asio::awaitable<result<std::vector<affected_account>>> breach_scope(
        std::string from, std::string to, bool from_audit, audit_entry audit) = 0;
    virtual boost::asio::awaitable<result<std::int64_t>> queue_breach_notices(
        std::string incident_id, std::vector<breach_notice> notices, bool dry_run,
        audit_entry audit) = 0;

    virtual boost::asio::awaitable<result<std::vector<std::string>>> processor_tokens_in_use(
        std::string processor, std::int64_t window_ms) = 0;
};

/// privacy_store on PostgreSQL.
class privacy_records final : public privacy_store {
  public:
    explicit privacy_records(database& db) : db_(db) {}

    boost::asio::awaitable<result<purge_counts>> count_purgeable(retention_policy policy) override;
    boost::asio::awaitable<result<purge_counts>> purge_batch(retention_policy policy) override;
    boost::asio::awaitable<result<void>> audit(audit_entry entry) override;
    boost::asio::awaitable<result<account_data>> export_account(std::string account_number,
                                                                audit_entry audit) override;
    boost::asio::awaitable<result<account_contact>> correct_email(std::string account_number,
                                                                  std::string email,
                                                                  std::string updated_by,
                                                                  audit_entry audit) override;
    boost::asio::awaitable<result<std::vector<affected_account>>> breach_scope(
        std::string from, std::string to, bool from_audit, audit_entry audit) override;
    boost::asio::awaitable<result<std::int64_t>> queue_breach_notices(
        std::string incident_id, std::vector<breach_notice> notices, bool dry_run,
        audit_entry audit) override;
    boost::asio::awaitable<result<std::vector<std::string>>> processor_tokens_in_use(
        std::string processor, std::int64_t window_ms) override;

  private:
    database& db_;
};

}  // namespace billpay::store
