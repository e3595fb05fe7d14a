#include "finance/reconcile.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <chrono>
#include <map>
#include <set>

#include "model/ids.hpp"
#include "model/money.hpp"
#include "model/time.hpp"

namespace billpay::finance {
namespace {

namespace json = boost::json;

std::string money_text(std::int64_t minor, const std::string& currency) {
    auto unit = model::currency::parse(currency);
    return unit ? model::to_decimal({minor, *unit}) + " " + currency
                : std::to_string(minor) + " " + currency;
}

}  // namespace

std::optional<int> days_between(std::string_view from, std::string_view to) {
    auto a = model::parse_date(from);
    auto b = model::parse_date(to);
    if (!a || !b) {
        return std::nullopt;
    }
    return static_cast<int>((*b - *a).count());
}

namespace {

/// What the ledger holds, found by the processor's references.
struct ledger_index {
    std::map<std::string, const store::ledger_payment*> payment_by_reference;
    std::map<std::string, const store::ledger_refund*> refund_by_reference;
    std::set<std::string> settled_charges;  // references with a charge line
    std::set<std::string> settled_refunds;  // refund references with a refund line
};

ledger_index index_of(const reconcile_input& in) {
    ledger_index index;
    for (const auto& p : in.payments) {
        if (!p.reference.empty()) {
            index.payment_by_reference[p.reference] = &p;
        }
    }
    for (const auto& r : in.refunds) {
        if (!r.reference.empty()) {
            index.refund_by_reference[r.reference] = &r;
        }
    }
    // Every line known, once, by line id: what settled in range and what settled elsewhere.
    std::map<std::string, const store::settlement_line*> all_lines;
    for (const auto* set : {&in.lines, &in.other_lines}) {
        for (const auto& l : *set) {
            all_lines.emplace(l.line_id, &l);
        }
    }
    for (const auto& [id, l] : all_lines) {
        if (l->kind == "charge") {
            index.settled_charges.insert(l->reference);
        } else if (l->kind == "refund") {
            index.settled_refunds.insert(l->refund_reference.empty() ? l->reference
                                                                     : l->refund_reference);
        }
    }
    return index;
}

/// What one payout's lines came to.
struct payout_total {
    std::string currency;
    std::int64_t gross = 0;
    std::int64_t fees = 0;
    std::int64_t net = 0;
    int lines = 0;
};

/// Classifies a run as it goes: each settlement line against the ledger, then what the ledger
/// holds that settled nowhere, then the run's counts.
class classifier {
  public:
    classifier(const reconcile_input& in, store::reconciliation_run& run)
        : in_(in), run_(run), index_(index_of(in)) {}

    void settlement_lines() {
        for (const auto& l : in_.lines) {
            if (l.kind != "payout") {
                auto& t = payouts_[l.payout_id.empty() ? "(no payout)" : l.payout_id];
                t.currency = l.currency;
                t.gross += l.gross;
                t.fees += l.fee;
                t.net += l.net;
                ++t.lines;
            }
            if (l.kind == "charge") {
                charge_line(l);
            } else if (l.kind == "refund") {
                refund_line(l);
            }
        }
    }

    /// Payments and refunds of the range that no line settled: awaiting settlement, or (past
    /// settlement_days) not settled.
    void unsettled() {
        for (const auto& p : in_.payments) {
            // Its day where the utility is, as it was selected: the UTC date differs every evening.
            const std::string& day = p.day;
            if (day < in_.from || day > in_.to || index_.settled_charges.contains(p.reference)) {
                continue;
            }
            if (p.amount - p.voided == 0) {
                add({"voided", false, p.processor, p.reference, p.id, "", "", 0, std::nullopt,
                     p.currency, day, "voided before settlement: nothing to settle"});
                continue;
            }
            int age = days_between(day, in_.today).value_or(0);
            bool overdue = age >= in_.settlement_days;
            add({overdue ? "not_settled" : "awaiting_settlement", overdue, p.processor, p.reference,
                 p.id, "", "", p.amount - p.voided, std::nullopt, p.currency, day,
                 overdue ? "succeeded " + std::to_string(age) + " days ago and not settled"
                         : "succeeded " + std::to_string(age) + " days ago; settlement expected"});
        }
        for (const auto& r : in_.refunds) {
            const std::string& day = r.day;
            if (r.kind == "void" || day < in_.from || day > in_.to ||
                index_.settled_refunds.contains(r.reference)) {
                continue;
            }
            int age = days_between(day, in_.today).value_or(0);
            bool overdue = age >= in_.settlement_days;
            add({overdue ? "refund_not_settled" : "refund_awaiting_settlement", overdue,
                 r.processor, r.reference, r.payment_id, r.id, "", r.amount, std::nullopt,
                 r.currency, day,
                 overdue ? "refunded " + std::to_string(age) + " days ago and not settled"
                         : "refunded " + std::to_string(age) + " days ago; settlement expected"});
        }
    }

    /// The run's counts and its payouts, as the run's summary keeps them.
    void summarize() {
        json::object classes;
        for (const auto& item : run_.items) {
            auto& n = classes[item.item_class];
            n = n.is_int64() ? n.as_int64() + 1 : 1;
            if (item.is_exception) {
                ++run_.exceptions;
            } else if (item.item_class == "matched" || item.item_class == "refund_matched") {
                ++run_.matched;
            }
        }
        json::array payout_list;
        for (const auto& [id, t] : payouts_) {
            payout_list.push_back(json::object{{"payout_id", id},
                                               {"currency", t.currency},
                                               {"lines", t.lines},
                                               {"gross", t.gross},
                                               {"fees", t.fees},
                                               {"net", t.net}});
        }
        run_.summary_json = json::serialize(json::object{{"classes", classes},
                                                         {"payouts", payout_list},
                                                         {"settlement_days", in_.settlement_days}});
    }

  private:
    void add(store::reconciliation_item item) { run_.items.push_back(std::move(item)); }

    void charge_line(const store::settlement_line& l) {
        const std::string& day = l.day;  // where the utility is, as lines were selected
        if (++charge_lines_seen_[l.reference] > 1) {
            add({"duplicate", true, "", l.reference, "", "", l.line_id, std::nullopt, l.gross,
                 l.currency, day,
                 "the charge " + l.reference + " settled more than once (line " + l.line_id + ")"});
            return;
        }
        auto it = index_.payment_by_reference.find(l.reference);
        if (it == index_.payment_by_reference.end()) {
            add({"unknown_to_billpayd", true, "", l.reference, "", "", l.line_id, std::nullopt,
                 l.gross, l.currency, day,
                 "the processor settled " + money_text(l.gross, l.currency) + " for " +
                     (l.reference.empty() ? std::string("a charge without a reference")
                                          : l.reference) +
                     ", which billpayd has no record of"});
            return;
        }
        const auto& p = *it->second;
        std::int64_t expected = p.amount - p.voided;
        if (l.gross == expected && l.currency == p.currency) {
            add({"matched", false, p.processor, l.reference, p.id, "", l.line_id, expected, l.gross,
                 l.currency, day, "settled as paid"});
        } else {
            add({"amount_mismatch", true, p.processor, l.reference, p.id, "", l.line_id, expected,
                 l.gross, l.currency, day,
                 "billpayd recorded " + money_text(expected, p.currency) +
                     ", the processor settled " + money_text(l.gross, l.currency)});
        }
    }

    void refund_line(const store::settlement_line& l) {
        const std::string& day = l.day;
        std::string key = l.refund_reference.empty() ? l.reference : l.refund_reference;
        if (++refund_lines_seen_[key] > 1) {
            add({"duplicate", true, "", key, "", "", l.line_id, std::nullopt, l.gross, l.currency,
                 day, "the refund " + key + " settled more than once"});
            return;
        }
        auto it = index_.refund_by_reference.find(key);
        if (it == index_.refund_by_reference.end()) {
            add({"refund_unknown_to_billpayd", true, "", key, "", "", l.line_id, std::nullopt,
                 l.gross, l.currency, day,
                 "the processor settled a refund of " + money_text(-l.gross, l.currency) + " (" +
                     key + ") that billpayd never made"});
            return;
        }
        const auto& r = *it->second;
        // Refund lines are negative in Stripe's reports and positive in Authorize.Net's.
        std::int64_t settled = l.gross < 0 ? -l.gross : l.gross;
        if (settled == r.amount && l.currency == r.currency) {
            add({"refund_matched", false, r.processor, key, r.payment_id, r.id, l.line_id, r.amount,
                 settled, l.currency, day, "refund settled as made"});
        } else {
            add({"amount_mismatch", true, r.processor, key, r.payment_id, r.id, l.line_id, r.amount,
                 settled, l.currency, day,
                 "billpayd refunded " + money_text(r.amount, r.currency) +
                     ", the processor settled " + money_text(settled, l.currency)});
        }
    }

    const reconcile_input& in_;
    store::reconciliation_run& run_;
    ledger_index index_;
    std::map<std::string, int> charge_lines_seen_;
    std::map<std::string, int> refund_lines_seen_;
    std::map<std::string, payout_total> payouts_;
};

}  // namespace

store::reconciliation_run reconcile(const reconcile_input& in, const std::string& run_id,
                                    const std::string& run_by) {
    store::reconciliation_run run;
    run.id = run_id;
    run.date_from = in.from;
    run.date_to = in.to;
    run.run_by = run_by;
    classifier classify(in, run);
    classify.settlement_lines();
    classify.unsettled();
    classify.summarize();
    return run;
}

boost::asio::awaitable<store::result<store::reconciliation_run>> run_reconciliation(
    store::settlement_store& records, const config::settings& settings, const std::string& from,
    const std::string& to, const std::string& today, const model::actor& who) {
    const std::string& tz = settings.payments.time_zone;
    auto sources = co_await records.reconciliation_input(from, to, tz);
    if (!sources) {
        co_return sources.error();
    }
    reconcile_input in;
    in.from = from;
    in.to = to;
    in.settlement_days = settings.finance.settlement_days;
    in.today = today.empty() ? sources->today : today;
    in.lines = std::move(sources->lines);
    in.payments = std::move(sources->payments);
    in.refunds = std::move(sources->refunds);
    in.other_lines = std::move(sources->other_lines);
    auto run = reconcile(in, model::new_id("rec"), who.id);
    const store::audit_entry audit{
        who.id,
        who.source,
        "reconciliation.run",
        run.id,
        "",
        boost::json::serialize(boost::json::object{
            {"from", from}, {"to", to}, {"matched", run.matched}, {"exceptions", run.exceptions}})};
    auto saved = co_await records.save_reconciliation(run, audit);
    if (!saved) {
        co_return saved.error();
    }
    co_return run;
}

}  // namespace billpay::finance
