#pragma once

#include <atomic>
#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "tests/fakes/fake_https_server.hpp"

namespace billpay::test {

/// A stand-in for Authorize.Net's JSON API (POST /xml/v1/request.api) as billpayd uses it, on
/// loopback TLS. It checks requests as Authorize.Net does: one root request element,
/// merchantAuthentication (E00007 for wrong credentials), the schema's element order and
/// required elements (E00003/E00013), Content-Type. Its answers have Authorize.Net's shapes,
/// numbers as JSON numbers, and a UTF-8 byte-order mark before the JSON. It keeps customer
/// profiles (one payment profile per card: E00039 for duplicates), Accept.js nonces (single
/// use), transactions with their invoice numbers and statuses, and settlement batches.
///
/// Outcomes follow Authorize.Net's sandbox: every card is approved, except its test card
/// 4222222222222, for which the amount's whole dollars choose the response reason code
/// ($2.00: declined, reason 2; $44.00: card code mismatch, reason 44; …).
/// As Authorize.Net documents: at most ten payment profiles per customer profile (E00042), a
/// transaction repeated within two minutes (same card and amount, and for refunds the same
/// charge) is refused as a duplicate (responseCode 3, reason 11), a deleted payment profile is
/// E00040, and a customer's transaction list (getTransactionListForCustomerRequest) holds its
/// charges, not its refunds.
/// Faults on command, per charge (by invoice number): answer too late, reset the connection,
/// or answer HTTP 500 — each after charging — or `slow`: take `late_by` to process the charge,
/// which appears in the transaction lists only when it is done, or `lost`: the request never
/// reaches Authorize.Net (the connection is reset before anything is done). A refund (by its
/// invoice number) can be answered too late, after it was made.
/// Authorize.Net's reporting lags its processing (set_reporting_lag): a transaction made is
/// listed only that long after it was submitted. Its nightly settlement puts every transaction
/// of the day into the batch, declined and voided ones too (they count in the batch's
/// statistics), and only the settled ones change status.
class authorizenet_server {
  public:
    enum class fault { none, late, reset, error_500, slow, lost };
    using fault_plan = std::function<fault(const std::string& invoice_number)>;

    authorizenet_server(tls_files certificate, std::string login_id, std::string transaction_key);

    void set_fault_plan(fault_plan plan);
    void set_late_by(std::chrono::milliseconds d) { late_ms_ = d.count(); }
    /// How long after it was submitted a transaction first appears in the transaction lists.
    void set_reporting_lag(std::chrono::milliseconds d) { reporting_lag_ms_ = d.count(); }
    void stop() { server_->stop(); }
    void start() { server_->start(); }
    /// Closes kept-alive connections idle this long, as Authorize.Net's front ends may.
    void close_idle_after(std::chrono::milliseconds idle) { server_->close_idle_after(idle); }
    [[nodiscard]] int connections() const { return server_->connections(); }
    /// Every request body received (with credentials), for "what does Authorize.Net see" tests.
    [[nodiscard]] std::vector<std::string> bodies() const;
    /// Payment profiles of one customer profile, and customer profiles in all.
    [[nodiscard]] std::size_t payment_profiles_of(const std::string& customer_profile_id) const;
    [[nodiscard]] std::size_t customer_profiles() const;
    /// Every customer profile id, and a profile added as another system on the same merchant
    /// account (or an older billpayd) would have left it: its id.
    [[nodiscard]] std::set<std::string> customer_profile_ids() const;
    std::string add_profile(const std::string& merchant_customer_id,
                            const std::string& description);
    /// Refund transactions per refTransId (the charge refunded).
    [[nodiscard]] std::map<std::string, int> refunds_of_charges() const;
    /// Lets `d` pass for the duplicate check: every transaction so far counts as submitted `d`
    /// earlier (past the two-minute window, a repeat is no longer refused: it is made again).
    void pass_time(std::chrono::seconds d);

    /// https://localhost:PORT/xml/v1/request.api
    [[nodiscard]] std::string endpoint() const;
    [[nodiscard]] int rejected_requests() const { return rejected_; }
    /// Transaction and batch list requests answered: how often billpayd looked something up.
    [[nodiscard]] int list_requests() const { return list_requests_; }

    /// Approved charges (authCaptureTransaction) per invoice number, voids not subtracted.
    [[nodiscard]] std::map<std::string, int> charges() const;
    /// The transId of the approved charge per invoice number.
    [[nodiscard]] std::map<std::string, std::string> charge_ids() const;
    /// transactionStatus of one transaction ("" if unknown).
    [[nodiscard]] std::string status_of(const std::string& trans_id) const;
    /// How many payment profiles the fake holds in all.
    [[nodiscard]] std::size_t payment_profiles() const;

    /// What Accept.js does in the customer's browser: makes a one-time nonce (opaqueData) for
    /// the card the customer typed. Returns its dataValue; the dataDescriptor is
    /// "COMMON.ACCEPT.INAPP.PAYMENT".
    std::string browser_nonce(const std::string& number, int exp_month, int exp_year);

    /// Authorize.Net's nightly settlement: every unsettled capture and refund goes into a new
    /// batch, settled at `settlement_time_utc` ("2026-11-26T04:00:00Z"). Returns the batch id.
    std::string settle(const std::string& settlement_time_utc);

  private:
    struct card {
        std::string last4;
        std::string expiry;  // YYYY-MM
        std::string card_type;
        std::string identity;         // number and expiry, hashed: Authorize.Net's duplicate check
        bool amount_trigger = false;  // 4222222222222
    };
    struct profile {
        std::string merchant_customer_id;
        std::string description;
        std::map<std::string, card> payment_profiles;
    };
    struct transaction {
        std::string trans_id;
        std::string type;    // authCaptureTransaction, refundTransaction, voidTransaction
        std::string status;  // transactionStatus
        std::int64_t amount_cents = 0;
        std::string invoice;
        std::string customer_profile_id;
        std::string payment_profile_id;
        std::string ref_trans_id;
        std::string submit_time_utc;
        std::string batch_id;
        std::string account_type;
        std::string last4;
        std::chrono::steady_clock::time_point submitted = std::chrono::steady_clock::now();
    };
    struct batch {
        std::string settlement_time_utc;
        std::vector<std::string> trans_ids;
    };

    fake_reply handle(const fake_request& req);
    fake_reply dispatch(const std::string& name, const boost::json::object& r);
    fake_reply create_customer_profile(const boost::json::object& r);
    fake_reply create_customer_payment_profile(const boost::json::object& r);
    fake_reply get_customer_payment_profile(const boost::json::object& r);
    fake_reply delete_customer_payment_profile(const boost::json::object& r);
    fake_reply create_transaction(const boost::json::object& r);
    fake_reply charge(const boost::json::object& tr, const std::string& ref_id);
    fake_reply reverse(const boost::json::object& tr, const std::string& type,
                       const std::string& ref_id);
    fake_reply transaction_details(const boost::json::object& r);
    fake_reply transaction_list(const std::vector<const transaction*>& all,
                                const boost::json::object& r);
    fake_reply settled_batches(const boost::json::object& r);
    /// A card from a payment element (creditCard or opaqueData), or an error reply.
    std::variant<card, fake_reply> card_of(const boost::json::object& payment);
    boost::json::object summary_json(const transaction& t) const;

    std::string login_id_;
    std::string transaction_key_;
    std::atomic<long> late_ms_{1500};
    std::atomic<long> reporting_lag_ms_{0};
    std::atomic<int> list_requests_{0};
    std::atomic<int> rejected_{0};
    mutable std::mutex mutex_;
    fault_plan plan_;
    std::map<std::string, profile> profiles_;  // customerProfileId -> profile
    std::map<std::string, card> nonces_;       // Accept.js dataValue -> card (one use)
    std::map<std::string, transaction> transactions_;
    std::vector<std::string> transaction_order_;  // transIds as submitted
    std::vector<std::string> bodies_;
    std::map<std::string, batch> batches_;
    long next_id_ = 40000000;
    std::unique_ptr<fake_https_server> server_;  // last: stopped first
};

}  // namespace billpay::test
