#include "metrics/metrics.hpp"

#include <cmath>
#include <cstdio>

namespace billpay::metrics {
namespace {

/// A number as Prometheus reads it: integers without a fraction, others with enough digits.
std::string number(double v) {
    if (std::isinf(v)) {
        return v > 0 ? "+Inf" : "-Inf";
    }
    char text[32];
    if (v == std::floor(v) && std::fabs(v) < 1e15) {
        std::snprintf(text, sizeof text, "%.0f", v);
    } else {
        std::snprintf(text, sizeof text, "%.9g", v);
    }
    return text;
}

/// `{a="x",b="y"}` (with `extra` appended, for a bucket's `le`), values escaped as the format
/// asks (backslash, double quote, newline).
std::string label_text(const std::vector<std::string>& names, const label_values& values,
                       const std::string& extra = "") {
    std::string out;
    for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
        out += out.empty() ? "{" : ",";
        out += names[i] + "=\"";
        for (char c : values[i]) {
            if (c == '\\' || c == '"') {
                out += '\\';
                out += c;
            } else if (c == '\n') {
                out += "\\n";
            } else {
                out += c;
            }
        }
        out += '"';
    }
    if (!extra.empty()) {
        out += out.empty() ? "{" : ",";
        out += extra;
    }
    return out.empty() ? out : out + "}";
}

void header(std::string& out, const std::string& name, const std::string& help, const char* type) {
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

// Latency buckets (seconds): from a millisecond to a processor's whole deadline.
const std::vector<double> request_buckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                          0.25,  0.5,    1,     2.5,  5,     10,   30};

}  // namespace

counter::counter(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

void counter::add(const label_values& values, std::uint64_t n) {
    std::lock_guard lock(mutex_);
    series_[values] += n;
}

std::uint64_t counter::value(const label_values& values) const {
    std::lock_guard lock(mutex_);
    auto it = series_.find(values);
    return it == series_.end() ? 0 : it->second;
}

void counter::render(std::string& out) const {
    header(out, name_, help_, "counter");
    std::lock_guard lock(mutex_);
    for (const auto& [values, count] : series_) {
        out += name_ + label_text(label_names_, values) + " " + std::to_string(count) + "\n";
    }
}

histogram::histogram(std::string name, std::string help, std::vector<std::string> label_names,
                     std::vector<double> upper_bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      upper_bounds_(std::move(upper_bounds)) {}

void histogram::observe(const label_values& values, double seconds) {
    std::lock_guard lock(mutex_);
    auto& s = series_[values];
    if (s.buckets.empty()) {
        s.buckets.assign(upper_bounds_.size(), 0);
    }
    for (std::size_t i = 0; i < upper_bounds_.size(); ++i) {
        if (seconds <= upper_bounds_[i]) {
            ++s.buckets[i];
            break;
        }
    }
    ++s.count;
    s.sum += seconds;
}

void histogram::render(std::string& out) const {
    header(out, name_, help_, "histogram");
    std::lock_guard lock(mutex_);
    for (const auto& [values, s] : series_) {
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < upper_bounds_.size(); ++i) {
            cumulative += s.buckets[i];
            out += name_ + "_bucket" +
                   label_text(label_names_, values, "le=\"" + number(upper_bounds_[i]) + "\"") +
                   " " + std::to_string(cumulative) + "\n";
        }
        out += name_ + "_bucket" + label_text(label_names_, values, "le=\"+Inf\"") + " " +
               std::to_string(s.count) + "\n";
        out += name_ + "_sum" + label_text(label_names_, values) + " " + number(s.sum) + "\n";
        out += name_ + "_count" + label_text(label_names_, values) + " " + std::to_string(s.count) +
               "\n";
    }
}

process_metrics::process_metrics()
    : http_request_duration("billpay_http_request_duration_seconds",
                            "Time from a request's first byte to its response, by route pattern, "
                            "method and status.",
                            {"route", "method", "status"}, request_buckets),
      processor_call_duration("billpay_processor_call_duration_seconds",
                              "Calls to the payment processor, by operation and outcome.",
                              {"operation", "outcome"}, request_buckets),
      store_queue_wait("billpay_store_queue_wait_seconds",
                       "How long database work waited for one of the store's connections.", {},
                       request_buckets),
      payments("billpay_payments_total",
               "Payments that reached an outcome, by outcome and by whom (request, recovery).",
               {"outcome", "by"}),
      refunds("billpay_refunds_total", "Refunds that reached an outcome, by outcome.", {"outcome"}),
      receipts("billpay_receipt_deliveries_total",
               "Delivery attempts to the correspondence system, by outcome.", {"outcome"}) {}

std::string process_metrics::render() const {
    std::string out;
    http_request_duration.render(out);
    processor_call_duration.render(out);
    store_queue_wait.render(out);
    payments.render(out);
    refunds.render(out);
    receipts.render(out);
    return out;
}

process_metrics& process() {
    static process_metrics metrics;
    return metrics;
}

void render_gauge(std::string& out, std::string_view name, std::string_view help, double value) {
    const std::string n(name);
    header(out, n, std::string(help), "gauge");
    out += n + " " + number(value) + "\n";
}

}  // namespace billpay::metrics
