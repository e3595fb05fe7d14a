#include "finance/reports.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <vector>

#include "model/money.hpp"
#include "model/text.hpp"
#include "model/time.hpp"

namespace billpay::finance {
namespace {

namespace json = boost::json;

std::string decimal(std::int64_t minor, const std::string& currency) {
    auto unit = model::currency::parse(currency);
    return unit ? model::to_decimal({minor, *unit}) : std::to_string(minor);
}

std::string csv(const std::string& text) { return model::csv_field(text); }

std::string html(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

json::value optional_amount(const std::optional<std::int64_t>& v) {
    return v ? json::value(*v) : json::value(nullptr);
}

json::object item_json(const store::reconciliation_item& i) {
    return json::object{
        {"class", i.item_class},
        {"exception", i.is_exception},
        {"processor", i.processor},
        {"reference", i.reference},
        {"payment", i.payment_id.empty() ? json::value(nullptr) : json::value(i.payment_id)},
        {"refund", i.refund_id.empty() ? json::value(nullptr) : json::value(i.refund_id)},
        {"line_id", i.line_id},
        {"expected", optional_amount(i.expected)},
        {"actual", optional_amount(i.actual)},
        {"currency", i.currency},
        {"day", i.day},
        {"message", i.message}};
}

/// Every day of [from, to], YYYY-MM-DD (at most 367: the range the report allows).
std::vector<std::string> days_of(const std::string& from, const std::string& to) {
    std::vector<std::string> out;
    auto first = model::parse_date(from);
    auto last = model::parse_date(to);
    if (!first || !last) {
        return out;
    }
    for (auto d = *first; d <= *last && out.size() < 367; d += std::chrono::days{1}) {
        const std::chrono::year_month_day ymd{d};
        char text[16];
        std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
        out.emplace_back(text);
    }
    return out;
}

/// A tick spacing of 1, 2 or 5 times a power of ten (minor units), at least one major unit,
/// that puts at most five ticks under `largest`.
std::int64_t tick_step(std::int64_t largest) {
    const std::int64_t wanted = std::max<std::int64_t>(100, (largest + 4) / 5);
    for (std::int64_t magnitude = 100;; magnitude *= 10) {
        for (std::int64_t m : {1, 2, 5}) {
            if (m * magnitude >= wanted) {
                return m * magnitude;
            }
        }
    }
}

/// A tick's label: "$250.00" for dollars, "250.00 CAD" for another currency.
std::string money_label(std::int64_t minor, const std::string& currency) {
    return currency == "USD" ? "$" + decimal(minor, currency)
                             : decimal(minor, currency) + " " + currency;
}

/// One currency's totals over the report's range.
struct report_total {
    std::int64_t payments_count = 0;
    std::int64_t scheduled_count = 0;
    std::int64_t autopay_count = 0;
    std::int64_t payments = 0;
    std::int64_t refunds_count = 0;
    std::int64_t refunds = 0;
    std::int64_t fees = 0;
    std::int64_t net = 0;
};

std::map<std::string, report_total> totals_of(const daily_report& r) {
    std::map<std::string, report_total> totals;
    for (const auto& d : r.days) {
        auto& t = totals[d.currency];
        t.payments_count += d.payments_count;
        t.scheduled_count += d.scheduled_count;
        t.autopay_count += d.autopay_count;
        t.payments += d.payments_sum;
        t.refunds_count += d.refunds_count;
        t.refunds += d.refunds_sum;
        t.fees += d.fees;
        t.net += d.net();
    }
    return totals;
}

/// How many payments came from each origin (model::payment_origin).
json::object by_origin(std::int64_t all, std::int64_t scheduled, std::int64_t autopay) {
    return json::object{
        {"portal", all - scheduled - autopay}, {"schedule", scheduled}, {"autopay", autopay}};
}

std::string origins_text(std::int64_t all, std::int64_t scheduled, std::int64_t autopay) {
    return "portal " + std::to_string(all - scheduled - autopay) + ", schedule " +
           std::to_string(scheduled) + ", autopay " + std::to_string(autopay);
}

}  // namespace

json::object report_json(const daily_report& r) {
    json::array days;
    for (const auto& d : r.days) {
        days.push_back(json::object{
            {"day", d.day},
            {"processor", d.processor},
            {"currency", d.currency},
            {"payments", json::object{{"count", d.payments_count},
                                      {"amount", d.payments_sum},
                                      {"by_origin", by_origin(d.payments_count, d.scheduled_count,
                                                              d.autopay_count)}}},
            {"refunds", json::object{{"count", d.refunds_count}, {"amount", d.refunds_sum}}},
            {"fees", d.fees},
            {"net", d.net()}});
    }
    json::array total_list;
    for (const auto& [currency, t] : totals_of(r)) {
        total_list.push_back(json::object{
            {"currency", currency},
            {"payments_count", t.payments_count},
            {"payments_by_origin", by_origin(t.payments_count, t.scheduled_count, t.autopay_count)},
            {"payments", t.payments},
            {"refunds_count", t.refunds_count},
            {"refunds", t.refunds},
            {"fees", t.fees},
            {"net", t.net}});
    }
    json::array exceptions;
    for (const auto& e : r.exceptions) {
        exceptions.push_back(item_json(e));
    }
    return json::object{{"object", "daily_report"}, {"from", r.from}, {"to", r.to},
                        {"time_zone", r.time_zone}, {"days", days},   {"totals", total_list},
                        {"exceptions", exceptions}};
}

std::string report_csv(const daily_report& r) {
    std::string out =
        "day,processor,currency,payments_count,payments_amount,refunds_count,refunds_amount,fees,"
        "net,payments_portal,payments_schedule,payments_autopay\r\n";
    for (const auto& d : r.days) {
        out += csv(d.day) + "," + csv(d.processor) + "," + csv(d.currency) + "," +
               std::to_string(d.payments_count) + "," + decimal(d.payments_sum, d.currency) + "," +
               std::to_string(d.refunds_count) + "," + decimal(d.refunds_sum, d.currency) + "," +
               decimal(d.fees, d.currency) + "," + decimal(d.net(), d.currency) + "," +
               std::to_string(d.portal_count()) + "," + std::to_string(d.scheduled_count) + "," +
               std::to_string(d.autopay_count) + "\r\n";
    }
    // The range's totals, a row per currency, as the HTML page's total row and the JSON totals.
    for (const auto& [currency, t] : totals_of(r)) {
        out += "total,," + csv(currency) + "," + std::to_string(t.payments_count) + "," +
               decimal(t.payments, currency) + "," + std::to_string(t.refunds_count) + "," +
               decimal(t.refunds, currency) + "," + decimal(t.fees, currency) + "," +
               decimal(t.net, currency) + "," +
               std::to_string(t.payments_count - t.scheduled_count - t.autopay_count) + "," +
               std::to_string(t.scheduled_count) + "," + std::to_string(t.autopay_count) + "\r\n";
    }
    out +=
        "\r\nexception_day,class,processor,reference,payment,refund,expected,actual,currency,"
        "message\r\n";
    for (const auto& e : r.exceptions) {
        out += csv(e.day) + "," + csv(e.item_class) + "," + csv(e.processor) + "," +
               csv(e.reference) + "," + csv(e.payment_id) + "," + csv(e.refund_id) + "," +
               (e.expected ? decimal(*e.expected, e.currency) : "") + "," +
               (e.actual ? decimal(*e.actual, e.currency) : "") + "," + csv(e.currency) + "," +
               csv(e.message) + "\r\n";
    }
    return out;
}

std::string report_html(const daily_report& r) {
    // The chart: every day of the range on its axis (none left out, zero where nothing
    // happened), payments and refunds summed over processors (one currency: the first one's,
    // which a utility's reports have), and a y axis with ticks in money.
    const std::string currency = r.days.empty() ? "USD" : r.days.front().currency;
    const auto days = days_of(r.from, r.to);
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> by_day;
    for (const auto& day : days) {
        by_day[day];
    }
    for (const auto& d : r.days) {
        if (d.currency == currency) {
            by_day[d.day].first += d.payments_sum;
            by_day[d.day].second += d.refunds_sum;
        }
    }
    std::int64_t largest = 0;
    for (const auto& [day, v] : by_day) {
        largest = std::max({largest, v.first, v.second});
    }
    const std::int64_t step = tick_step(largest);
    const std::int64_t top = std::max<std::int64_t>(step, (largest + step - 1) / step * step);
    const int width = 860;
    const int height = 290;  // a plot of 240 px: ticks and bars fall on whole pixels
    const int left = 90;
    const int bottom = 30;
    const int plot = height - bottom - 20;
    const int groups = std::max<int>(1, static_cast<int>(by_day.size()));
    const int slot = (width - left - 10) / groups;
    const int bar = std::max(1, slot * 2 / 5);
    // A label every day while they fit; otherwise every n-th, so none overlap.
    const int label_every = std::max(1, (groups * 40 + (width - left)) / (width - left));
    std::string svg =
        "<svg id=\"chart\" role=\"img\" aria-label=\"Daily payments and refunds\" "
        "width=\"" +
        std::to_string(width) + "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " +
        std::to_string(width) + " " + std::to_string(height) +
        "\" xmlns=\"http://www.w3.org/2000/svg\">";
    // The y axis: gridlines and labels at each tick, in the report's money.
    for (std::int64_t tick = step; tick <= top; tick += step) {
        const int y = height - bottom - static_cast<int>(tick * plot / top);
        svg += "<rect class=\"grid\" x=\"" + std::to_string(left - 5) + "\" y=\"" +
               std::to_string(y) + "\" width=\"" + std::to_string(width - left) +
               "\" height=\"1\" fill=\"#dddddd\"/>";
        svg += "<text class=\"tick\" x=\"" + std::to_string(left - 8) + "\" y=\"" +
               std::to_string(y + 4) + "\" font-size=\"11\" text-anchor=\"end\">" +
               html(money_label(tick, currency)) + "</text>";
    }
    svg += "<text class=\"tick\" x=\"" + std::to_string(left - 8) + "\" y=\"" +
           std::to_string(height - bottom + 4) + "\" font-size=\"11\" text-anchor=\"end\">" +
           html(money_label(0, currency)) + "</text>";
    // The x axis: a 2 px rectangle on whole pixels, so that it is drawn crisp.
    svg += "<rect class=\"axis\" x=\"" + std::to_string(left - 5) + "\" y=\"" +
           std::to_string(height - bottom) + "\" width=\"" + std::to_string(width - left) +
           "\" height=\"2\" fill=\"#333333\"/>";
    int i = 0;
    for (const auto& entry : by_day) {
        // Named, not bound: clang 14 (the fuzzers' compiler) cannot capture a structured binding.
        const auto& day = entry.first;
        const auto& v = entry.second;
        int x = left + i * slot + slot / 10;
        auto bar_rect = [&](std::int64_t amount, int offset, const char* cls, const char* what) {
            int h = static_cast<int>((amount * plot + top / 2) / top);
            svg += "<rect class=\"" + std::string(cls) + "\" x=\"" + std::to_string(x + offset) +
                   "\" y=\"" + std::to_string(height - bottom - h) + "\" width=\"" +
                   std::to_string(bar) + "\" height=\"" + std::to_string(h) + "\"><title>" +
                   html(day) + " " + what + " " + html(decimal(amount, currency)) +
                   "</title></rect>";
        };
        bar_rect(v.first, 0, "pay", "payments");
        bar_rect(v.second, bar, "ref", "refunds");
        if (i % label_every == 0) {
            svg += "<text class=\"day\" x=\"" + std::to_string(x) + "\" y=\"" +
                   std::to_string(height - 10) + "\" font-size=\"11\">" + html(day.substr(5)) +
                   "</text>";
        }
        ++i;
    }
    svg += "</svg>";

    std::string rows;
    for (const auto& d : r.days) {
        rows += "<tr><td>" + html(d.day) + "</td><td>" + html(d.processor) + "</td><td>" +
                html(d.currency) + "</td><td class=\"n\">" + std::to_string(d.payments_count) +
                "</td><td class=\"n\">" + html(decimal(d.payments_sum, d.currency)) +
                "</td><td class=\"n\">" + std::to_string(d.refunds_count) +
                "</td><td class=\"n\">" + html(decimal(d.refunds_sum, d.currency)) +
                "</td><td class=\"n\">" + html(decimal(d.fees, d.currency)) +
                "</td><td class=\"n\">" + html(decimal(d.net(), d.currency)) + "</td><td>" +
                html(origins_text(d.payments_count, d.scheduled_count, d.autopay_count)) +
                "</td></tr>\n";
    }
    for (const auto& [unit, t] : totals_of(r)) {
        rows += "<tr class=\"total\"><th colspan=\"3\">Total " + html(unit) +
                "</th><td class=\"n\">" + std::to_string(t.payments_count) +
                "</td><td class=\"n\">" + html(decimal(t.payments, unit)) +
                "</td><td class=\"n\">" + std::to_string(t.refunds_count) +
                "</td><td class=\"n\">" + html(decimal(t.refunds, unit)) + "</td><td class=\"n\">" +
                html(decimal(t.fees, unit)) + "</td><td class=\"n\">" + html(decimal(t.net, unit)) +
                "</td><td>" +
                html(origins_text(t.payments_count, t.scheduled_count, t.autopay_count)) +
                "</td></tr>\n";
    }
    std::string exceptions;
    for (const auto& e : r.exceptions) {
        exceptions += "<tr><td>" + html(e.day) + "</td><td>" + html(e.item_class) + "</td><td>" +
                      html(e.reference) + "</td><td>" + html(e.payment_id) + "</td><td>" +
                      html(e.message) + "</td></tr>\n";
    }
    if (exceptions.empty()) {
        exceptions = "<tr><td colspan=\"5\">No exceptions.</td></tr>\n";
    }
    return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<title>billpayd daily report " +
           html(r.from) + " to " + html(r.to) +
           "</title><style>"
           "body{font-family:sans-serif;margin:24px;color:#222}"
           "table{border-collapse:collapse;margin:12px 0}"
           "th,td{border:1px solid #bbb;padding:4px 8px}th{background:#eee}"
           "td.n{text-align:right;font-variant-numeric:tabular-nums}"
           "rect.pay{fill:#1f6fd1}rect.ref{fill:#d1541f}"
           "tr.total th,tr.total td{font-weight:bold}"
           ".key span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}"
           "</style></head><body>\n<h1>Daily report " +
           html(r.from) + " to " + html(r.to) + "</h1>\n<p>Days in " + html(r.time_zone) +
           ". <span class=\"key\"><span style=\"background:#1f6fd1\"></span>payments"
           "<span style=\"background:#d1541f\"></span>refunds</span></p>\n" +
           svg +
           "\n<h2>Totals</h2>\n<table id=\"totals\"><thead><tr><th>Day</th><th>Processor</th>"
           "<th>Currency</th><th>Payments</th><th>Paid</th><th>Refunds</th><th>Refunded</th>"
           "<th>Fees</th><th>Net</th><th>Payments by origin</th></tr></thead><tbody>\n" +
           rows +
           "</tbody></table>\n<h2>Reconciliation exceptions</h2>\n<table id=\"exceptions\">"
           "<thead><tr><th>Day</th><th>Class</th><th>Reference</th><th>Payment</th>"
           "<th>What is wrong</th></tr></thead><tbody>\n" +
           exceptions + "</tbody></table>\n</body></html>\n";
}

std::string general_ledger_csv(const std::string& date, const std::vector<store::daily_total>& day,
                               const config::finance_settings::gl_accounts& accounts) {
    std::string out = "journal_date,account,debit,credit,currency,memo\r\n";
    auto line = [&](const std::string& account, std::int64_t debit, std::int64_t credit,
                    const std::string& currency, const std::string& memo) {
        out += csv(date) + "," + csv(account) + "," + (debit ? decimal(debit, currency) : "") +
               "," + (credit ? decimal(credit, currency) : "") + "," + csv(currency) + "," +
               csv(memo) + "\r\n";
    };
    for (const auto& d : day) {
        if (d.payments_sum) {
            std::string memo =
                "card payments via " + d.processor + " (" + std::to_string(d.payments_count) + ")";
            line(accounts.clearing, d.payments_sum, 0, d.currency, memo);
            line(accounts.receivable, 0, d.payments_sum, d.currency, memo);
        }
        if (d.refunds_sum) {
            std::string memo =
                "card refunds via " + d.processor + " (" + std::to_string(d.refunds_count) + ")";
            line(accounts.receivable, d.refunds_sum, 0, d.currency, memo);
            line(accounts.clearing, 0, d.refunds_sum, d.currency, memo);
        }
        if (d.fees) {
            std::string memo = "processing fees settled by " + d.processor;
            line(accounts.fees, d.fees, 0, d.currency, memo);
            line(accounts.clearing, 0, d.fees, d.currency, memo);
        }
    }
    return out;
}

json::object reconciliation_json(const store::reconciliation_run& run) {
    json::array items;
    for (const auto& i : run.items) {
        items.push_back(item_json(i));
    }
    boost::system::error_code ec;
    auto summary = json::parse(run.summary_json, ec);
    return json::object{{"id", run.id},
                        {"object", "reconciliation"},
                        {"from", run.date_from},
                        {"to", run.date_to},
                        {"run_by", run.run_by},
                        {"started_at", run.started_at},
                        {"matched", run.matched},
                        {"exceptions", run.exceptions},
                        {"summary", ec ? json::value(nullptr) : summary},
                        {"items", items}};
}

boost::asio::awaitable<store::result<daily_report>> load_daily_report(
    store::settlement_store& records, const std::string& from, const std::string& to,
    const std::string& time_zone) {
    auto read = co_await records.daily(from, to, time_zone);
    if (!read) {
        co_return read.error();
    }
    co_return daily_report{from, to, time_zone, std::move(read->first), std::move(read->second)};
}

}  // namespace billpay::finance
