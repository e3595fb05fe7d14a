#pragma once

#include <atomic>
#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tests/fakes/fake_https_server.hpp"

namespace billpay::test {

/// A stand-in for Stripe's API v1 as billpayd uses it, on loopback TLS. It checks requests as
/// Stripe documents them (Bearer secret key, Stripe-Version, form encoding, required fields,
/// Idempotency-Key semantics: the same key with the same parameters replays the first answer,
/// status and body, even a 500; with other parameters it is a 400 idempotency_error), answers
/// with Stripe's shapes, and decides outcomes by Stripe's test cards. As Stripe documents, a
/// result is saved under its key only once the endpoint began executing (a request that fails
/// parameter validation, or is rate limited, is not), and a replayed answer carries
/// `Idempotent-Replayed: true`. Faults on command, per charge: answer too late, reset the
/// connection, or answer 500 — each after charging — or 429 before doing anything.
///
/// PaymentMethods and Customers follow Stripe's documented rules, refusals included: a
/// PaymentMethod on no Customer pays once ("previously used without being attached to a
/// Customer … may not be used again"), and can then be neither attached nor used; one on a
/// Customer pays only with that Customer named; detach works only on an attached one (400
/// otherwise) and leaves it unusable; customer search is not read-after-write (a Customer shows
/// up `customer_search_lag` after it was made; Stripe: under a minute).
///
/// Its memory is Stripe's: an Idempotency-Key's answer is kept 24 hours, then forgotten (a
/// request under a forgotten key runs afresh: a second charge); pass_time() lets a test make
/// them that old. Every PaymentIntent is kept and found by search on its metadata, a declined
/// one too (status requires_payment_method with its last_payment_error, as Stripe leaves a
/// confirm that the card refused); refunds keep their metadata and are listed per
/// PaymentIntent (GET /v1/refunds?payment_intent=); GET /v1/customers/{id} shows a Customer
/// with its metadata.
class stripe_server {
  public:
    enum class fault { none, late, reset, error_500, rate_limited };
    /// Which fault the first request for a payment (by its billpay payment id) meets.
    using fault_plan = std::function<fault(const std::string& payment_id)>;

    stripe_server(tls_files certificate, std::string secret_key, std::string api_version);

    void set_fault_plan(fault_plan plan);
    void set_late_by(std::chrono::milliseconds d) { late_ms_ = d.count(); }
    void stop() { server_->stop(); }
    /// Closes kept-alive connections idle this long, as servers and load balancers do.
    void close_idle_after(std::chrono::milliseconds idle) { server_->close_idle_after(idle); }
    [[nodiscard]] int connections() const { return server_->connections(); }
    /// Every form body received, for "what does Stripe see" tests.
    [[nodiscard]] std::vector<std::string> bodies() const;
    /// The billing details (name, postal code) of every PaymentMethod billpayd created, for
    /// Stripe's address and name checks.
    [[nodiscard]] std::vector<std::pair<std::string, std::string>> billing_details() const;
    void start() { server_->start(); }

    [[nodiscard]] std::string api_base() const;
    /// Successful charges per billpay payment id (the processor's ledger).
    [[nodiscard]] std::map<std::string, int> charges() const;
    /// Charged PaymentIntent ids per billpay payment id.
    [[nodiscard]] std::map<std::string, std::string> intents() const;
    [[nodiscard]] int rejected_requests() const { return rejected_; }
    /// Refunded amounts per billpay payment id.
    [[nodiscard]] std::map<std::string, std::int64_t> refunded() const;

    /// What Stripe.js does in the customer's browser: makes a PaymentMethod from the card the
    /// customer typed, and hands the portal only its id.
    std::string browser_payment_method(const std::string& number, int exp_month, int exp_year);

    /// How long a new Customer stays out of search results (default 60 s).
    void set_customer_search_lag(std::chrono::milliseconds lag);
    /// Forgets every Idempotency-Key, as Stripe does after 24 hours.
    void forget_idempotency_keys();
    /// Lets `d` pass for the keys kept: those then 24 hours old or more are forgotten.
    void pass_time(std::chrono::seconds d);
    /// A Customer made as another system on the same Stripe account would (the portal, or
    /// another account's billpayd): its id.
    std::string add_customer(const std::string& billpay_customer_reference);
    /// Attaches a PaymentMethod to a Customer, as a SetupIntent in the browser does.
    void attach_in_browser(const std::string& payment_method, const std::string& customer);
    /// Customers made (id -> metadata[billpay_customer]).
    [[nodiscard]] std::map<std::string, std::string> customers() const;
    /// The Customer a PaymentMethod is attached to ("" for none).
    [[nodiscard]] std::string customer_of(const std::string& payment_method) const;
    /// Every request's method and path (no query), in order: "POST /v1/customers".
    [[nodiscard]] std::vector<std::string> calls() const;

  private:
    struct stored {
        std::string params;
        fake_reply reply;
        std::chrono::steady_clock::time_point at = std::chrono::steady_clock::now();
    };
    struct refund {
        std::string id;
        std::string payment_intent;
        std::int64_t amount = 0;
        std::string refund_id;  // metadata[billpay_refund_id]
    };
    fake_reply list_refunds(const std::string& target);
    fake_reply customer_json(const std::string& id) const;
    fake_reply handle(const fake_request& req);
    fake_reply create_payment_method(const std::map<std::string, std::string>& form);
    fake_reply create_payment_intent(const std::map<std::string, std::string>& form,
                                     const std::string& key);
    fake_reply search(const std::string& target);
    fake_reply search_customers(const std::string& target);
    fake_reply create_customer(const std::map<std::string, std::string>& form);
    fake_reply attach(const std::string& id, const std::map<std::string, std::string>& form);
    fake_reply detach(const std::string& id);
    /// POST /v1/refunds (payment_intent, amount): at most what remains of the charge.
    fake_reply create_refund(const std::map<std::string, std::string>& form);

    std::string secret_key_;
    std::string api_version_;
    std::atomic<long> late_ms_{1500};
    std::atomic<int> rejected_{0};
    mutable std::mutex mutex_;
    fault_plan plan_;
    std::map<std::string, stored> idempotent_;  // Idempotency-Key -> first answer
    bool executed_ = true;
    std::vector<std::string> bodies_;  // the request being handled reached its endpoint's execution
    /// A PaymentMethod: the outcome its test card chose at creation ("" approves; else the
    /// decline code, or "processing_error") and what GET /v1/payment_methods/{id} shows. The
    /// fake keeps no card number, as billpayd keeps none.
    struct method {
        std::string outcome;
        std::string brand;
        std::string last4;
        int exp_month = 0;
        int exp_year = 0;
        std::string fingerprint;
        std::string customer;             // attached to ("" none)
        bool spent = false;               // paid on no Customer, or detached: unusable from now on
        std::string billing_name;         // billing_details[name]
        std::string billing_postal_code;  // billing_details[address][postal_code]
    };
    struct customer {
        std::string reference;  // metadata[billpay_customer]
        std::chrono::steady_clock::time_point made;
    };
    std::map<std::string, customer> customers_;
    std::chrono::milliseconds search_lag_{60'000};
    std::vector<std::string> calls_;
    fake_reply method_json(const std::string& id) const;
    std::string add_method(const std::string& number, int exp_month, int exp_year);
    std::map<std::string, method> methods_;
    std::map<std::string, int> charges_;                      // payment id -> successful charges
    std::map<std::string, std::string> intents_;              // payment id -> pi_ (succeeded)
    std::map<std::string, boost::json::object> all_intents_;  // payment id -> last PI made
    std::vector<refund> refunds_;
    std::map<std::string, std::int64_t> charged_amounts_;  // payment id -> amount charged
    std::map<std::string, std::int64_t> refunded_;         // payment id -> amount refunded
    int next_id_ = 0;
    std::unique_ptr<fake_https_server> server_;  // last: stopped first
};

}  // namespace billpay::test
