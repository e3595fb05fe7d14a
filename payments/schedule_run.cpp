#include "payments/schedule_run.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>

#include "correspondence/notices.hpp"
#include "logging/log.hpp"
#include "model/ids.hpp"
#include "model/time.hpp"

namespace billpay::payments {
namespace {

namespace asio = boost::asio;
using correspondence::schedule_failure;
using store::item_end;
using namespace std::chrono_literals;

/// Declines another try cannot cure: the card itself will not be charged.
bool final_decline(const std::string& code) {
    static constexpr std::array<std::string_view, 9> codes{
        "expired_card",   "lost_card",          "stolen_card", "pickup_card",    "incorrect_number",
        "invalid_number", "card_not_supported", "fraudulent",  "invalid_account"};
    return std::find(codes.begin(), codes.end(), code) != codes.end();
}

std::string day_after(const std::string& day) {
    return model::format_date(model::parse_date(day).value() + std::chrono::days(1));
}

/// Whether a card good through the end of (exp_month, exp_year) has expired by `day`.
bool expired_by(int exp_month, int exp_year, const std::string& day) {
    const std::chrono::year_month_day d{model::parse_date(day).value()};
    const int year = static_cast<int>(d.year());
    const int month = static_cast<int>(static_cast<unsigned>(d.month()));
    return exp_year < year || (exp_year == year && exp_month < month);
}

correspondence::card_named card_of(const store::claimed_item& item) {
    return {item.card_brand, item.card_last4};
}

/// The item given up on, with its scheduled_payment_failed notice (one per attempt's end).
store::item_outcome failed(const store::claimed_item& item, store::item_outcome out,
                           schedule_failure why, const std::optional<std::string>& payment_id,
                           const std::optional<std::string>& decline_code) {
    const auto& p = item.payment;
    out.end = item_end::failed;
    out.payment_id = payment_id;
    out.failure_code = decline_code.value_or(std::string(correspondence::to_string(why)));
    out.notice = store::account_notice{
        "scheduled_payment_failed/" + p.id + "/" + std::to_string(p.attempts), p.account_number,
        correspondence::render_scheduled_payment_failed(p, why, card_of(item), payment_id,
                                                        decline_code)};
    return out;
}

store::item_outcome with_end(store::item_outcome out, item_end end,
                             std::chrono::milliseconds hold = 1min) {
    out.end = end;
    out.hold = hold;
    return out;
}

/// Counts one recorded end in the run's report.
void tally(item_end end, run_report& report) {
    switch (end) {
        case item_end::paid:
            ++report.counts.charged;
            break;
        case item_end::failed:
            ++report.counts.failed;
            break;
        case item_end::retry:
            ++report.counts.retrying;
            break;
        case item_end::pending:
            ++report.counts.pending;
            break;
        case item_end::canceled:
            ++report.canceled;
            break;
        case item_end::release:
            ++report.released;
            break;
    }
}

}  // namespace

std::string schedule_charge_key(const std::string& scheduled_payment_id, int attempt) {
    return scheduled_payment_id + "/" + std::to_string(attempt);
}

asio::awaitable<run_report> schedule_run::run(const run_options& options) {
    run_report report;
    if (auto begun = co_await runs_.begin_run(options.run_id, options.day, options.host); !begun) {
        report.store_failed = true;
        co_return report;
    }
    report.notices = co_await queue_autopay_notices(options.day);
    auto planned = co_await runs_.plan_autopay(options.day, settings_.payments.time_zone);
    if (!planned) {
        logging::warn("schedule run: could not plan AutoPay's charges",
                      {{"error", store::to_string(planned.error())}});
        report.store_failed = true;
        co_return report;
    }
    report.planned_autopay = *planned;
    const store::run_claim claim{options.run_id, options.day, options.batch, options.lease};
    for (;;) {
        auto batch = co_await runs_.claim(claim);
        if (!batch) {
            logging::warn("schedule run: could not claim due items",
                          {{"error", store::to_string(batch.error())}});
            report.store_failed = true;
            break;
        }
        if (batch->empty()) {
            break;
        }
        report.counts.due += static_cast<std::int64_t>(batch->size());
        co_await charge_batch(*batch, options, report);
    }
    // A run that stopped early is not finished: the day's alert waits for one that is.
    if (!report.store_failed) {
        if (auto ended = co_await runs_.end_run(options.run_id, report.counts); !ended) {
            report.store_failed = true;
        }
    }
    co_return report;
}

asio::awaitable<std::int64_t> schedule_run::queue_autopay_notices(const std::string& day) {
    std::vector<store::account_notice> notices;
    auto upcoming = co_await runs_.upcoming_charges(day, settings_.payments.autopay_notice_days,
                                                    settings_.payments.time_zone);
    if (upcoming) {
        for (const auto& c : *upcoming) {
            notices.push_back(store::account_notice{
                "autopay_upcoming/" + c.bill.account_number + "/" + c.bill.bill_id,
                c.bill.account_number,
                correspondence::render_autopay_upcoming(c.bill, c.enrollment, c.charge_on,
                                                        {c.card_brand, c.card_last4})});
        }
    }
    auto expiring = co_await runs_.expiring_cards(day);
    if (expiring) {
        for (const auto& c : *expiring) {
            char month[8];
            std::snprintf(month, sizeof month, "%04d-%02d", c.exp_year, c.exp_month);
            notices.push_back(store::account_notice{
                "autopay_card_expiring/" + c.enrollment.account_number + "/" +
                    c.enrollment.payment_method_id + "/" + month,
                c.enrollment.account_number,
                correspondence::render_autopay_card_expiring(
                    c.enrollment, {c.card_brand, c.card_last4}, c.exp_month, c.exp_year)});
        }
    }
    if (!upcoming || !expiring) {
        logging::warn(
            "schedule run: could not read AutoPay's upcoming charges or expiring cards; "
            "their notices wait for the next run");
    }
    if (notices.empty()) {
        co_return 0;
    }
    auto queued = co_await runs_.queue_notices(notices);
    if (!queued) {
        logging::warn("schedule run: could not queue AutoPay's notices; the next run does",
                      {{"error", store::to_string(queued.error())}});
        co_return 0;
    }
    co_return *queued;
}

asio::awaitable<void> schedule_run::charge_batch(const std::vector<store::claimed_item>& batch,
                                                 const run_options& options, run_report& report) {
    auto executor = co_await asio::this_coro::executor;
    std::vector<std::optional<store::item_outcome>> outcomes(batch.size());
    std::size_t next = 0;
    int working = static_cast<int>(std::min<std::size_t>(
        batch.size(), static_cast<std::size_t>(std::max(1, options.parallel))));
    asio::steady_timer all_done(executor, asio::steady_timer::time_point::max());
    auto worker = [&]() -> asio::awaitable<void> {
        while (next < batch.size()) {
            const std::size_t i = next++;
            try {
                outcomes[i] = co_await charge_item(batch[i], options);
            } catch (const std::exception& e) {
                // Not recorded: its claim runs out and a later run looks again (same key).
                logging::error(
                    "schedule run: an item's charge failed unexpectedly",
                    {{"scheduled_payment_id", batch[i].payment.id}, {"error", e.what()}});
            }
        }
        if (--working == 0) {
            all_done.cancel();
        }
    };
    const int workers = working;
    for (int i = 0; i < workers; ++i) {
        asio::co_spawn(executor, worker(), asio::detached);
    }
    // Workers that never waited (every item refused before a charge) may all be done already:
    // then the timer was cancelled before anyone waited on it.
    if (working > 0) {
        co_await all_done.async_wait(asio::as_tuple(asio::use_awaitable));
    }

    std::vector<store::item_outcome> ends;
    for (auto& o : outcomes) {
        if (o) {
            ends.push_back(std::move(*o));
        } else {
            ++report.released;
        }
    }
    auto ended = co_await runs_.end_items(ends);
    if (!ended) {
        // Nothing of the batch recorded: the claims run out and the next run replays the keys.
        logging::warn("schedule run: a batch's ends were not recorded; the next run records them",
                      {{"error", store::to_string(ended.error())}, {"items", ends.size()}});
        report.released += static_cast<std::int64_t>(ends.size());
        co_return;
    }
    for (std::size_t i = 0; i < ends.size(); ++i) {
        if (!(*ended)[i]) {
            ++report.released;  // another run took the claim over: its word stands
            continue;
        }
        tally(ends[i].end, report);
    }
}

asio::awaitable<store::item_outcome> schedule_run::charge_item(const store::claimed_item& item,
                                                               const run_options& options) {
    store::item_outcome out;
    out.id = item.payment.id;
    out.run_id = options.run_id;
    co_return co_await charge(item, options, out);
}

std::optional<store::item_outcome> schedule_run::refusal_before_charge(
    const store::claimed_item& item, const run_options& options, store::item_outcome out) const {
    const auto& p = item.payment;
    if (p.origin == model::payment_origin::autopay) {
        if (!item.enrolled) {
            // AutoPay ended (or moved to another card) after this charge was planned.
            out.failure_code = "autopay_ended";
            return with_end(out, item_end::canceled);
        }
        if (item.bill_paid_by) {
            out.failure_code = "bill_paid";
            return with_end(out, item_end::canceled);
        }
        if (item.max_amount && p.amount.minor_units > *item.max_amount) {
            return failed(item, out, schedule_failure::over_autopay_limit, std::nullopt,
                          std::nullopt);
        }
    }
    if (!item.card_saved) {
        return failed(item, out, schedule_failure::card_removed, std::nullopt, std::nullopt);
    }
    if (expired_by(item.card_exp_month, item.card_exp_year, options.day)) {
        return failed(item, out, schedule_failure::card_expired, std::nullopt, std::nullopt);
    }
    return std::nullopt;
}

asio::awaitable<store::item_outcome> schedule_run::charge(const store::claimed_item& item,
                                                          const run_options& options,
                                                          store::item_outcome out) {
    const auto& p = item.payment;
    const std::string client(model::client_of(p.origin));
    const std::string key = schedule_charge_key(p.id, p.attempts);
    const store::key_claim claim{client, key, "POST", "/v1/scheduled_payments/" + p.id + "/charge",
                                 p.id + "|" + std::to_string(p.amount.minor_units) + "|" +
                                     std::string(p.amount.unit.code()) + "|" + p.payment_method_id +
                                     "|" + std::to_string(p.attempts)};
    auto claimed = co_await keys_.claim(claim);
    if (!claimed) {
        co_return with_end(out, item_end::release, options.lease);
    }
    if (claimed->status == store::claim_status::mismatch) {
        logging::error(
            "schedule run: a scheduled payment's charge key holds another request; "
            "left for an operator",
            {{"scheduled_payment_id", p.id}, {"key", key}});
        co_return with_end(out, item_end::release, 24h);
    }
    if (claimed->status != store::claim_status::claimed) {
        // Charged before under this key (a run that died, or one still at it): its payment says
        // how it went, or, when none was written, the other request still holds the key.
        auto paid_by = co_await runs_.payment_of_key(client, key);
        if (!paid_by) {
            co_return with_end(out, item_end::release, options.lease);
        }
        if (!*paid_by) {
            co_return with_end(out, item_end::release, claim.lease);
        }
        auto payment = co_await payments_.find_payment(**paid_by);
        if (!payment || !*payment) {
            co_return with_end(out, item_end::release, options.lease);
        }
        co_return after_payment(item, **payment, options, out);
    }
    // The key is this run's and no charge was ever made under it (an earlier holder that died
    // before OPEN wrote nothing): only now may a check conclude "not charged". Checked before the
    // key, a claim taken over from a run that charged and died would be told its card was
    // removed, or its bill paid (by that very charge).
    if (auto refused = refusal_before_charge(item, options, out)) {
        if (auto released = co_await keys_.release(claimed->lease); !released) {
            logging::warn("schedule run: could not give a charge key back; it runs out",
                          {{"scheduled_payment_id", p.id}});
        }
        co_return *refused;
    }
    pay_request request;
    request.request_id = model::new_id("req");
    request.key = claimed->lease;
    request.account_number = p.account_number;
    request.bill_id = p.bill_id;
    request.amount = p.amount.minor_units;
    request.currency = std::string(p.amount.unit.code());
    request.payment_method = p.payment_method_id;
    request.payer = customer{p.customer_name, p.customer_email};
    auto paid = co_await service_.pay(request);
    auto give_key_back = [&]() -> asio::awaitable<void> {
        if (auto released = co_await keys_.release(request.key); !released) {
            logging::warn("schedule run: could not give a charge key back; it runs out",
                          {{"scheduled_payment_id", p.id}});
        }
    };
    switch (paid.status) {
        case pay_status::succeeded:
        case pay_status::declined:
        case pay_status::failed:
        case pay_status::pending:
            co_return after_payment(item, *paid.payment, options, out);
        case pay_status::no_such_payment_method:
            co_await give_key_back();
            co_return failed(item, out, schedule_failure::card_removed, std::nullopt, std::nullopt);
        case pay_status::payment_method_unusable:
            co_await give_key_back();
            co_return failed(item, out, schedule_failure::card_unusable, std::nullopt,
                             std::nullopt);
        case pay_status::possible_duplicate:
            // This bill is being paid (or was just paid) another way: tomorrow's run looks
            // again (an AutoPay charge is canceled then if the bill is paid), uncounted.
            co_await give_key_back();
            out.failure_code = "possible_duplicate";
            out.next_attempt_on = day_after(options.day);
            out.attempt_uncounted = true;
            co_return with_end(out, item_end::retry);
        case pay_status::refused:
            // Nothing left billpayd (the store failed before OPEN).
            co_await give_key_back();
            co_return with_end(out, item_end::release, options.lease);
        case pay_status::open_not_written:  // the key was given back already
        case pay_status::key_lost:
            co_return with_end(out, item_end::release, options.lease);
        case pay_status::outcome_unknown:
            // A pending payment may stand under the key: a later run finds it there.
            co_return with_end(out, item_end::release, claim.lease);
    }
    co_return with_end(out, item_end::release, options.lease);
}

store::item_outcome schedule_run::after_payment(const store::claimed_item& item,
                                                const model::payment_record& payment,
                                                const run_options& options,
                                                store::item_outcome out) const {
    using model::payment_status;
    out.payment_id = payment.id;
    switch (payment.status) {
        case payment_status::pending:
            // Recovery learns what the processor did, and sends the receipt; a later run
            // records the item paid or failed.
            // Held as long as a claim: the next run (not this one) looks again after that.
            return with_end(out, item_end::pending, options.lease);
        case payment_status::declined:
        case payment_status::failed: {
            const std::string code = payment.decline_code.value_or("processing_error");
            if (code == "expired_card") {
                return failed(item, out, schedule_failure::card_expired, payment.id, code);
            }
            if (!final_decline(code) &&
                item.payment.attempts <= settings_.payments.schedule_retries) {
                out.failure_code = code;
                // A decline waits a day; a charge that failed with nothing charged (the
                // processor's word, or the charge never left) may go again at the next run.
                out.next_attempt_on = payment.status == payment_status::declined
                                          ? day_after(options.day)
                                          : options.day;
                return with_end(out, item_end::retry);
            }
            return failed(item, out, schedule_failure::declined, payment.id, code);
        }
        default:  // succeeded (and refunded since, by finance)
            out.failure_code.reset();
            return with_end(out, item_end::paid);
    }
}

}  // namespace billpay::payments
