#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace billpay::metrics {

// What billpayd counts and times, kept in this process and rendered in Prometheus's text
// exposition format (version 0.0.4) on GET /metrics. docs/operations.md lists every series and
// what an operator does about it; systemd/billpayd-alerts.yaml holds the alerting rules.
//
// Like logging/, this is process-wide and below every other folder: each may record, none
// reads. Label values must come from small fixed sets (routes as patterns, outcomes, statuses):
// never an id, an account number, a name or an email.

/// The values of one series' labels, in the order of its family's label names.
using label_values = std::vector<std::string>;

/// A count that only grows, per label values.
class counter {
  public:
    counter(std::string name, std::string help, std::vector<std::string> label_names);
    void add(const label_values& values, std::uint64_t n = 1);
    /// The count of one series (0 when it was never added to): for tests.
    [[nodiscard]] std::uint64_t value(const label_values& values) const;
    void render(std::string& out) const;

  private:
    std::string name_;
    std::string help_;
    std::vector<std::string> label_names_;
    mutable std::mutex mutex_;
    std::map<label_values, std::uint64_t> series_;
};

/// Observations (seconds) in cumulative buckets, with their count and sum, per label values.
class histogram {
  public:
    histogram(std::string name, std::string help, std::vector<std::string> label_names,
              std::vector<double> upper_bounds);
    void observe(const label_values& values, double seconds);
    void render(std::string& out) const;

  private:
    struct series {
        std::vector<std::uint64_t> buckets;  // one per upper bound, not cumulative
        std::uint64_t count = 0;
        double sum = 0;
    };
    std::string name_;
    std::string help_;
    std::vector<std::string> label_names_;
    std::vector<double> upper_bounds_;
    mutable std::mutex mutex_;
    std::map<label_values, series> series_;
};

/// Every counter and histogram billpayd keeps: one place to see them all. Gauges are read when
/// scraped (daemon/service.cpp), from the database and the server.
struct process_metrics {
    process_metrics();

    /// HTTP requests by route pattern (`/v1/payments/{id}`; `none` before one matched), method
    /// and status.
    histogram http_request_duration;
    /// Calls to the payment processor by operation (tokenize, charge, lookup, refund, void,
    /// delete_token, discard_token, adopt_token) and outcome (approved, declined, failed,
    /// unknown).
    histogram processor_call_duration;
    /// How long database work waited for one of the store's connections.
    histogram store_queue_wait;
    /// Payments that reached an outcome, by outcome (succeeded, declined, failed, pending) and
    /// by whom (request, recovery).
    counter payments;
    /// Refunds that reached an outcome, by outcome (succeeded, failed, pending).
    counter refunds;
    /// Delivery attempts to the correspondence system, by outcome (delivered, retry, dead).
    counter receipts;

    /// Every series, in the text format.
    [[nodiscard]] std::string render() const;
};

/// The process's metrics.
process_metrics& process();

/// Appends one gauge (HELP, TYPE and its single value) to `out`.
void render_gauge(std::string& out, std::string_view name, std::string_view help, double value);

}  // namespace billpay::metrics
