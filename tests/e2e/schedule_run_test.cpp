// `billpayctl schedule run`: on the utility's day it charges what is due (payments customers
// scheduled, AutoPay's bills), each exactly once however many runs there are, at once or after a
// crash; a decline is retried once the next day and then the customer is told; a card that is
// gone, expired or over the AutoPay limit is not charged and the customer is told; AutoPay
// warns before it charges. Days are the utility's (America/Los_Angeles here), daylight saving
// days included.
#include <gmock/gmock.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <future>
#include <set>
#include <thread>

#include "tests/e2e/schedule_fixture.hpp"
#include "tests/e2e/stripe_fixture.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace billpay::test;
using namespace std::chrono_literals;
namespace json = boost::json;

class ScheduleRun : public scheduled_payments_fixture {
  protected:
    void SetUp() override {
        scheduled_payments_fixture::SetUp();
        time_zone = "America/Los_Angeles";
        // Daylight saving days lie more than 90 days ahead: a longer horizon for those tests.
        config.extra_root =
            clients_yaml() + gateway_yaml() + payments_yaml() + "  schedule_horizon_days: 366\n";
    }

    /// Schedules `amount` for `pay_on` (bill `bill`, or none when empty); the scheduled id.
    std::string scheduled_for(https_client& c, const std::string& card, const std::string& pay_on,
                              const std::string& key, const std::string& bill = "2026-12",
                              std::int64_t amount = 8450) {
        auto body = scheduled(card, pay_on, amount);
        if (bill.empty()) {
            body.erase("bill_id");
        } else {
            body["bill_id"] = bill;
        }
        auto res = schedule(c, body, key);
        EXPECT_EQ(res.result(), http::status::created) << res.body();
        return std::string(json_of(res).at("id").as_string());
    }

    /// Runs the schedule for `day`; its exit code.
    int run(const std::string& day, const std::string& options = "") {
        return run_command(ctl() + " schedule run --date " + day + " " + options + " >/dev/null");
    }

    std::string status_of(const std::string& id) {
        return text("SELECT status FROM scheduled_payments WHERE id = '" + id + "'");
    }

    /// Succeeded payments without exactly one payment_receipt (or with more).
    std::int64_t receipts_astray() {
        return count(
            "SELECT count(*) FROM payments p WHERE p.status = 'succeeded' AND (SELECT count(*)"
            " FROM outbox_messages m WHERE m.payment_id = p.id AND m.type = 'payment_receipt')"
            " <> 1");
    }

    http_response send_bill(https_client& c, const std::string& bill_id, std::int64_t amount_due,
                            const std::string& due_date, const std::string& account = "1001-2002") {
        return c.request(http::verb::post, "/v1/bills",
                         json::serialize(json::object{{"account_number", account},
                                                      {"bill_id", bill_id},
                                                      {"amount_due", amount_due},
                                                      {"currency", "USD"},
                                                      {"due_date", due_date}}),
                         auth(billing_key));
    }

    http_response enroll(https_client& c, const std::string& card, int days_before_due,
                         std::optional<std::int64_t> max_amount = std::nullopt) {
        json::object body{
            {"payment_method", card},
            {"days_before_due", days_before_due},
            {"customer", json::object{{"name", "Ada Lovelace"}, {"email", "ada@example.com"}}}};
        if (max_amount) {
            body["max_amount"] = *max_amount;
        }
        return c.request(http::verb::put, "/v1/accounts/1001-2002/autopay", json::serialize(body),
                         auth(portal_key));
    }

    /// Schedules `items` payments for today, runs two schedule runs at once, kills one of them
    /// (SIGKILL) mid-run, and runs again until nothing is left: every item paid by one
    /// succeeded payment with one receipt, nothing left claimed. The processor's side is the
    /// caller's to check.
    void charge_many_with_a_kill(int items) {
        auto c = client();
        const auto card = saved_card(c);
        const auto today = local_day(0);
        for (int i = 0; i < items; ++i) {
            scheduled_for(c, card, today, "many-" + std::to_string(i), "bill-" + std::to_string(i),
                          1000 + i);
        }
        child_process killed({built_program("billpayctl").string(), "--config",
                              (dir / "billpayd.yaml").string(), "schedule", "run", "--date", today,
                              "--parallel", "4", "--batch", "20", "--lease", "2"},
                             dir / "killed-run.log");
        auto other = std::async(std::launch::async,
                                [&] { return run(today, "--parallel 4 --batch 20 --lease 2"); });
        // Kill one run once both are well under way.
        const auto deadline = std::chrono::steady_clock::now() + 60s;
        while (count("SELECT count(*) FROM payments") < 40 &&
               std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(5ms);
        }
        killed.send_signal(SIGKILL);
        ASSERT_EQ(killed.wait_exit(10s), 128 + SIGKILL);  // killed mid-run, not already done
        ASSERT_EQ(other.get(), 0);
        // What the killed run held is still claimed: no run finished it yet.
        const auto left_claimed =
            count("SELECT count(*) FROM scheduled_payments WHERE status = 'running'");
        RecordProperty("left_claimed_by_the_killed_run", std::to_string(left_claimed));
        RecordProperty(
            "payments_left_pending",
            std::to_string(count("SELECT count(*) FROM payments WHERE status = 'pending'")));
        EXPECT_LT(count("SELECT count(*) FROM payments"), items + 1);
        // Later runs take over what the killed one held, once its claims ran out; the daemon's
        // recovery learns any charge whose answer died with it.
        const auto settle_by = std::chrono::steady_clock::now() + 180s;
        while (count("SELECT count(*) FROM scheduled_payments WHERE status <> 'paid'") > 0 &&
               std::chrono::steady_clock::now() < settle_by) {
            std::this_thread::sleep_for(2500ms);
            ASSERT_EQ(run(today, "--lease 2"), 0);
        }
        EXPECT_EQ(count("SELECT count(*) FROM scheduled_payments WHERE status = 'paid'"), items)
            << text(
                   "SELECT coalesce(string_agg(s.id || ' ' || s.status || ' attempt ' || s.attempts"
                   " || ' ' || coalesce(s.failure_code, '-') || ' payment ' || coalesce(p.status, "
                   "'-')"
                   " || ' key ' || coalesce(k.payment_id, '-') || ' ' ||"
                   " coalesce(k.response_status::text, 'no answer'), '; '), 'none')"
                   " FROM scheduled_payments s LEFT JOIN idempotency_keys k"
                   " ON k.key = s.id || '/' || s.attempts LEFT JOIN payments p ON p.id = "
                   "k.payment_id"
                   " WHERE s.status <> 'paid'");
        EXPECT_EQ(count("SELECT count(*) FROM scheduled_payments WHERE status = 'running'"
                        " OR claimed_until IS NOT NULL"),
                  0);
        EXPECT_EQ(count("SELECT count(*) FROM payments WHERE status = 'succeeded'"), items);
        EXPECT_EQ(count("SELECT count(DISTINCT bill_id) FROM payments"), items);
        EXPECT_EQ(receipts_astray(), 0);
    }
};

TEST_F(ScheduleRun, APaymentIsChargedOnItsDayOnceWithItsReceipt) {
    start();
    auto c = client();
    const auto card = saved_card(c);
    const auto today = local_day(0);
    const auto tomorrow = local_day(1);
    const auto now_id = scheduled_for(c, card, today, "s-today", "2026-12");
    const auto later_id = scheduled_for(c, card, tomorrow, "s-tomorrow", "2027-01");

    ASSERT_EQ(run(today), 0);
    EXPECT_EQ(status_of(now_id), "paid");
    EXPECT_EQ(status_of(later_id), "scheduled");  // not before its day
    const auto payment =
        text("SELECT payment_id FROM scheduled_payments WHERE id = '" + now_id + "'");
    EXPECT_EQ(text("SELECT status FROM payments WHERE id = '" + payment + "'"), "succeeded");
    EXPECT_EQ(text("SELECT amount::text FROM payments WHERE id = '" + payment + "'"), "8450");
    EXPECT_EQ(text("SELECT bill_id FROM payments WHERE id = '" + payment + "'"), "2026-12");
    // The payment says where it came from, as the receipt does.
    EXPECT_EQ(text("SELECT client_id FROM payments WHERE id = '" + payment + "'"),
              "billpayd:schedule");
    EXPECT_EQ(text("SELECT body::json->'payment'->>'origin' FROM outbox_messages"
                   " WHERE type = 'payment_receipt' AND payment_id = '" +
                   payment + "'"),
              "schedule");
    EXPECT_EQ(processor_charges(), 1);
    // Finance sees it as any payment, with its origin.
    auto shown = get(c, "/v1/payments/" + payment, finance_key);
    ASSERT_EQ(shown.result(), http::status::ok) << shown.body();
    EXPECT_EQ(json_of(shown).at("origin"), "schedule");

    // The same day again, and again: nothing more.
    ASSERT_EQ(run(today), 0);
    ASSERT_EQ(run(today), 0);
    EXPECT_EQ(processor_charges(), 1);
    // Its day: the other one, once.
    ASSERT_EQ(run(tomorrow), 0);
    ASSERT_EQ(run(tomorrow), 0);
    EXPECT_EQ(status_of(later_id), "paid");
    EXPECT_EQ(processor_charges(), 2);
    EXPECT_EQ(count("SELECT count(*) FROM payments"), 2);
    EXPECT_EQ(receipts_astray(), 0);
    EXPECT_THAT(ledger_disagreements(), testing::IsEmpty());
    // The customer sees it paid, with its payment.
    const auto listed = json_of(get(c, "/v1/scheduled_payments?account_number=1001-2002"));
    const auto& data = listed.at("data").as_array();
    ASSERT_EQ(data.size(), 2U);
    EXPECT_EQ(data[0].at("status"), "paid");
    EXPECT_EQ(data[0].at("payment"), json::value(payment));
    EXPECT_EQ(data[0].at("origin"), "schedule");
    EXPECT_EQ(data[0].at("attempts"), 1);
    // Each run is on record with its counts.
    EXPECT_EQ(count("SELECT count(*) FROM schedule_runs WHERE finished_at IS NOT NULL"), 5);
    EXPECT_EQ(count("SELECT sum(charged) FROM schedule_runs"), 2);
}

TEST_F(ScheduleRun, AChargeWhoseEndWasNeverRecordedIsFoundUnderItsKeyEvenAfterRetention) {
    start();
    auto c = client();
    const auto card = saved_card(c);
    const auto today = local_day(0);
    const auto id = scheduled_for(c, card, today, "s-lost-end");
    ASSERT_EQ(run(today), 0);
    ASSERT_EQ(processor_charges(), 1);
    // As if the run had charged it and died before recording it, a long time ago: its claim ran
    // out, and its key is past retention.idempotency_key_days.
    exec(
        "UPDATE scheduled_payments SET status = 'running', payment_id = NULL,"
        " claimed_by = 'run_dead', claimed_until = now() - interval '1 second'");
    exec("UPDATE idempotency_keys SET created_at = now() - interval '60 days'");
    ASSERT_EQ(run_command(ctl() + " purge >/dev/null"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM idempotency_keys WHERE client_id = 'billpayd:schedule'"),
              1);  // kept: the next run must find the charge there
    ASSERT_EQ(run(today), 0);
    EXPECT_EQ(status_of(id), "paid");
    EXPECT_EQ(processor_charges(), 1);  // found, not made again
    EXPECT_EQ(count("SELECT count(*) FROM payments"), 1);
    // Once it is recorded, its key goes with the others.
    ASSERT_EQ(run_command(ctl() + " purge >/dev/null"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM idempotency_keys WHERE client_id = 'billpayd:schedule'"),
              0);
}

TEST_F(ScheduleRun, AChargeMadeBeforeTheCardWasRemovedIsFoundNotReportedAsNotCharged) {
    start();
    auto c = client();
    const auto card = saved_card(c);
    const auto today = local_day(0);
    const auto id = scheduled_for(c, card, today, "s-then-removed");
    ASSERT_EQ(run(today), 0);
    ASSERT_EQ(processor_charges(), 1);
    // The run charged it and died before recording it; then the customer removed the card.
    exec(
        "UPDATE scheduled_payments SET status = 'running', payment_id = NULL,"
        " claimed_by = 'run_dead', claimed_until = now() - interval '1 second'");
    auto deleted =
        c.request(http::verb::delete_, "/v1/payment_methods/" + card + "?account_number=1001-2002",
                  "", auth(portal_key));
    ASSERT_EQ(deleted.result(), http::status::ok) << deleted.body();
    ASSERT_EQ(run(today), 0);
    // The charge stands: paid, and the customer is never told nothing was charged.
    EXPECT_EQ(status_of(id), "paid");
    EXPECT_EQ(count("SELECT count(*) FROM outbox_messages WHERE type = 'scheduled_payment_failed'"),
              0);
    EXPECT_EQ(processor_charges(), 1);
}

TEST_F(ScheduleRun, ADeclineIsTriedOnceMoreTheNextDayThenTheCustomerIsTold) {
    start();
    auto c = client();
    const auto card = saved_card(c, "1001-2002", "4000000000009995");  // insufficient_funds
    const auto today = local_day(0);
    const auto id = scheduled_for(c, card, today, "s-declines");
    ASSERT_EQ(run(today), 0);
    EXPECT_EQ(status_of(id), "scheduled");
    EXPECT_EQ(text("SELECT to_char(next_attempt_on, 'YYYY-MM-DD') FROM scheduled_payments"),
              local_day(1));
    EXPECT_EQ(text("SELECT failure_code FROM scheduled_payments"), "insufficient_funds");
    EXPECT_EQ(count("SELECT count(*) FROM outbox_messages WHERE type = 'scheduled_payment_failed'"),
              0);
    ASSERT_EQ(run(today), 0);  // not again the same day
    EXPECT_EQ(processor_charges(), 1);

    ASSERT_EQ(run(local_day(1)), 0);
    EXPECT_EQ(status_of(id), "failed");
    EXPECT_EQ(processor_charges(), 2);  // two attempts, each its own charge
    EXPECT_EQ(count("SELECT count(*) FROM payments WHERE status = 'declined'"), 2);
    ASSERT_EQ(run(local_day(2)), 0);  // given up: never a third
    EXPECT_EQ(processor_charges(), 2);
    // One notice, saying what happened and what to do, naming the card by its last four only.
    EXPECT_EQ(count("SELECT count(*) FROM outbox_messages WHERE type = 'scheduled_payment_failed'"
                    " AND account_number = '1001-2002'"
                    " AND body::json->>'reason' = 'declined'"
                    " AND body::json->'scheduled_payment'->>'decline_code' = 'insufficient_funds'"
                    " AND body::json->'scheduled_payment'->'card'->>'last4' = '9995'"
                    " AND body::json->'customer'->>'email' = 'ada@example.com'"
                    " AND body::json->>'message' LIKE '%Nothing was charged%'"),
              1);
    EXPECT_EQ(count("SELECT count(*) FROM outbox_messages WHERE body LIKE '%4000000000009995%'"),
              0);
}

TEST_F(ScheduleRun, MetricsShowWhatIsDueAndWhatTheLatestRunDid) {
    start();
    auto c = client();
    const auto good = saved_card(c);
    const auto declining = saved_card(c, "1001-2002", "4000000000009995");
    const auto today = local_day(0);
    scheduled_for(c, good, today, "m-1", "b-1");
    scheduled_for(c, declining, today, "m-2", "b-2");
    auto scrape = [&] { return get(c, "/metrics", ops_key).body(); };
    EXPECT_THAT(scrape(), testing::HasSubstr("billpay_scheduled_payments_due 2\n"));
    ASSERT_EQ(run(today), 0);
    const auto text = scrape();
    for (const auto* series :
         {"billpay_scheduled_payments_due 0\n", "billpay_scheduled_payments_running 0\n",
          "billpay_schedule_last_run_due 2\n", "billpay_schedule_last_run_charged 1\n",
          "billpay_schedule_last_run_retrying 1\n", "billpay_schedule_last_run_failed 0\n",
          "billpay_schedule_run_overdue ",
          "billpay_schedule_last_run_finished_timestamp_seconds "}) {
        EXPECT_THAT(text, testing::HasSubstr(series));
    }
    // The day's run finished: not overdue, whatever the hour.
    EXPECT_THAT(text, testing::HasSubstr("billpay_schedule_run_overdue 0\n"));
}

TEST_F(ScheduleRun, ALostCardIsNotTriedAgain) {
    start();
    auto c = client();
    const auto card = saved_card(c, "1001-2002", "4000000000009987");  // lost_card
    const auto id = scheduled_for(c, card, local_day(0), "s-lost");
    ASSERT_EQ(run(local_day(0)), 0);
    EXPECT_EQ(status_of(id), "failed");
    EXPECT_EQ(text("SELECT failure_code FROM scheduled_payments"), "lost_card");
    ASSERT_EQ(run(local_day(1)), 0);
    EXPECT_EQ(processor_charges(), 1);
    EXPECT_EQ(count("SELECT count(*) FROM outbox_messages WHERE type = 'scheduled_payment_failed'"),
              1);
}

TEST_F(ScheduleRun, ARemovedOrExpiredCardIsNotChargedAndTheCustomerIsTold) {
    start();
    auto c = client();
    const auto today = local_day(0);
    // Expires at the end of next month; the run happens the month after (a late run).
    const auto next_month = local_day(31);
    const int exp_month = std::stoi(next_month.substr(5, 2));
    const int exp_year = std::stoi(next_month.substr(0, 4));
    const auto expiring = saved_card(c, "1001-2002", "5555555555554444", exp_month, exp_year);
    const auto expired_id = scheduled_for(c, expiring, next_month, "s-expiring", "b-1");
    const auto removed = saved_card(c);
    const auto removed_id = scheduled_for(c, removed, today, "s-removed", "b-2");
    auto deleted = c.request(http::verb::delete_,
                             "/v1/payment_methods/" + removed + "?account_number=1001-2002", "",
                             auth(portal_key));
    ASSERT_EQ(deleted.result(), http::status::ok) << deleted.body();

    ASSERT_EQ(run(today), 0);
    EXPECT_EQ(status_of(removed_id), "failed");
    EXPECT_EQ(text("SELECT failure_code FROM scheduled_payments WHERE id = '" + removed_id + "'"),
              "card_removed");
    ASSERT_EQ(run(local_day(70)), 0);
    EXPECT_EQ(status_of(expired_id), "failed");
    EXPECT_EQ(text("SELECT failure_code FROM scheduled_payments WHERE id = '" + expired_id + "'"),
              "card_expired");
    EXPECT_EQ(processor_charges(), 0);
    EXPECT_EQ(count("SELECT count(*) FROM payments"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM outbox_messages WHERE type = 'scheduled_payment_failed'"
                    " AND body::json->>'reason' IN ('card_removed', 'card_expired')"),
              2);
}

TEST_F(ScheduleRun, AutoPayWarnsThenPaysEachBillOnceAndNeverAboveItsLimit) {
    start();
    auto c = client();
    const auto card = saved_card(c);
    ASSERT_EQ(enroll(c, card, 2, 20000).result(), http::status::ok);
    // Due in 6 days: charged 2 days before, so on day 4; told from day 1 (3 days ahead).
    ASSERT_EQ(send_bill(c, "2027-01", 8450, local_day(6)).result(), http::status::created);
    ASSERT_EQ(send_bill(c, "2027-02", 25000, local_day(6)).result(),  // above the limit
              http::status::created);

    ASSERT_EQ(run(local_day(0)), 0);
    EXPECT_EQ(count("SELECT count(*) FROM outbox_messages WHERE type = 'autopay_upcoming'"), 0);
    ASSERT_EQ(run(local_day(1)), 0);
    ASSERT_EQ(run(local_day(2)), 0);
    EXPECT_EQ(count("SELECT count(*) FROM outbox_messages WHERE type = 'autopay_upcoming'"
                    " AND body::json->'autopay'->>'bill_id' = '2027-01'"
                    " AND body::json->'autopay'->>'charge_on' = '" +
                    local_day(4) +
                    "'"
                    " AND (body::json->'autopay'->>'amount')::int = 8450"),
              1);
    EXPECT_EQ(processor_charges(), 0);

    ASSERT_EQ(run(local_day(4)), 0);
    ASSERT_EQ(run(local_day(5)), 0);
    EXPECT_EQ(processor_charges(), 1);
    EXPECT_EQ(count("SELECT count(*) FROM payments WHERE client_id = 'billpayd:autopay'"
                    " AND bill_id = '2027-01' AND status = 'succeeded'"),
              1);
    auto exported = get(c, "/v1/accounts/1001-2002/export", finance_key);
    ASSERT_EQ(exported.result(), http::status::ok);
    const auto document = json_of(exported);
    for (const auto& b : document.at("bills").as_array()) {
        EXPECT_EQ(b.at("status"), b.at("bill_id") == "2027-01" ? "paid" : "unpaid");
    }
    // The customer's export holds the notices AutoPay sent them, and the charge it made.
    std::set<std::string> types;
    for (const auto& m : document.at("messages").as_array()) {
        types.insert(std::string(m.at("type").as_string()));
    }
    EXPECT_THAT(types, testing::IsSupersetOf(
                           {"autopay_upcoming", "scheduled_payment_failed", "payment_receipt"}));
    bool autopay_charge_listed = false;
    for (const auto& sp : document.at("scheduled_payments").as_array()) {
        autopay_charge_listed |= sp.at("origin") == "autopay" && sp.at("status") == "paid";
    }
    EXPECT_TRUE(autopay_charge_listed);
    // Finance's daily report counts the payment as AutoPay's (it was made today).
    const auto report = json::parse(capture_command(ctl() + " report daily --format json --from " +
                                                    local_day(0) + " --to " + local_day(0)));
    const auto& totals = report.at("totals").as_array();
    ASSERT_EQ(totals.size(), 1U);
    EXPECT_EQ(totals[0].at("payments_by_origin"),
              json::parse(R"({"portal": 0, "schedule": 0, "autopay": 1})"));
    // Above the limit: no charge, a notice instead.
    EXPECT_EQ(count("SELECT count(*) FROM outbox_messages WHERE type = 'scheduled_payment_failed'"
                    " AND body::json->>'reason' = 'over_autopay_limit'"
                    " AND body::json->'scheduled_payment'->>'bill_id' = '2027-02'"),
              1);
    EXPECT_EQ(receipts_astray(), 0);
}

TEST_F(ScheduleRun, AutoPayLeavesABillThePortalPaidAndWarnsOfAnExpiringCard) {
    start();
    auto c = client();
    // The card expires at the end of this month: AutoPay tells the customer, once.
    const auto today = local_day(0);
    const auto card = saved_card(c, "1001-2002", "5555555555554444", std::stoi(today.substr(5, 2)),
                                 std::stoi(today.substr(0, 4)));
    ASSERT_EQ(enroll(c, card, 0).result(), http::status::ok);
    ASSERT_EQ(send_bill(c, "2026-12", 12500, today).result(), http::status::created);
    ASSERT_EQ(pay(c, payment_body("4242424242424242", "2026-12"), "portal-pays").result(),
              http::status::created);
    ASSERT_EQ(run(today), 0);
    ASSERT_EQ(run(today), 0);
    EXPECT_EQ(processor_charges(), 1);                               // the portal's payment only
    EXPECT_EQ(count("SELECT count(*) FROM scheduled_payments"), 0);  // nothing to plan
    EXPECT_EQ(count("SELECT count(*) FROM outbox_messages WHERE type = 'autopay_card_expiring'"
                    " AND body::json->'autopay'->'card'->>'last4' = '4444'"),
              1);
}

TEST_F(ScheduleRun, DaysAreTheUtilitysAcrossDaylightSavingAndMidnightUtc) {
    start();
    auto c = client();
    const auto card = saved_card(c);
    // Daylight saving begins 2027-03-14 and ends 2027-11-07 in America/Los_Angeles.
    const auto spring = scheduled_for(c, card, "2027-03-14", "s-spring", "b-spring");
    const auto fall = scheduled_for(c, card, "2027-11-07", "s-fall", "b-fall");
    ASSERT_EQ(run("2027-03-13"), 0);
    EXPECT_EQ(status_of(spring), "scheduled");
    ASSERT_EQ(run("2027-03-14"), 0);
    ASSERT_EQ(run("2027-03-15"), 0);
    EXPECT_EQ(status_of(spring), "paid");
    ASSERT_EQ(run("2027-11-06"), 0);
    EXPECT_EQ(status_of(fall), "scheduled");
    ASSERT_EQ(run("2027-11-07"), 0);
    ASSERT_EQ(run("2027-11-08"), 0);
    EXPECT_EQ(status_of(fall), "paid");
    EXPECT_EQ(processor_charges(), 2);

    // Without --date the run charges the utility's day at the instant it runs: that is
    // tests/integration/store/schedule_runs_test.cpp's, across the same changes of the clocks.
}

TEST_F(ScheduleRun, ACancelRacingTheRunEitherWinsOrLosesNeverBothNeverNeither) {
    start();
    auto c = client();
    const auto card = saved_card(c);
    const auto today = local_day(0);
    std::vector<std::string> ids;
    for (int i = 0; i < 40; ++i) {
        ids.push_back(scheduled_for(c, card, today, "race-" + std::to_string(i),
                                    "race-" + std::to_string(i)));
    }
    auto running = std::async(std::launch::async, [&] { return run(today, "--parallel 2"); });
    std::map<std::string, http::status> answered;
    auto canceler = client();
    for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
        answered[*it] = cancel(canceler, *it).result();
    }
    ASSERT_EQ(running.get(), 0);
    ASSERT_EQ(run(today), 0);
    int canceled = 0;
    for (const auto& id : ids) {
        const auto status = status_of(id);
        const bool charged = count(
                                 "SELECT count(*) FROM payments p JOIN scheduled_payments s"
                                 " ON s.payment_id = p.id WHERE s.id = '" +
                                 id + "'") == 1;
        if (answered[id] == http::status::ok) {
            ++canceled;
            EXPECT_EQ(status, "canceled") << id;
            EXPECT_FALSE(charged) << id;
        } else {
            EXPECT_EQ(answered[id], http::status::conflict) << id;
            EXPECT_EQ(status, "paid") << id;
            EXPECT_TRUE(charged) << id;
        }
    }
    EXPECT_EQ(processor_charges(), static_cast<std::int64_t>(ids.size()) - canceled);
    EXPECT_THAT(ledger_disagreements(), testing::IsEmpty());
}

TEST_F(ScheduleRun, TwoRunsAtOnceAndOneKilledChargeEveryItemExactlyOnce) {
    // A processor that takes 20 ms a call, so that the kill lands mid-run.
    config.extra_root = clients_yaml() + gateway_yaml(20) + payments_yaml();
    start();
    charge_many_with_a_kill(200);
    EXPECT_EQ(processor_charges(), 200);
    EXPECT_THAT(ledger_disagreements(), testing::IsEmpty());
}

/// The same at the fake Stripe: each PaymentIntent confirmed once, under the payment's key.
class ScheduleRunAtStripe : public ScheduleRun {
  protected:
    void SetUp() override {
        ScheduleRun::SetUp();
        stripe_cert = make_certificate(dir.path(), "stripe", "localhost", ca);
        stripe = std::make_unique<stripe_server>(stripe_cert, stripe_secret_key,
                                                 billpay::gateway::stripe::api_version);
        config.extra_root = clients_yaml() + stripe_gateway_yaml(*stripe, ca) + payments_yaml();
    }
    tls_files stripe_cert;
    std::unique_ptr<stripe_server> stripe;
};

TEST_F(ScheduleRunAtStripe, TwoRunsAtOnceAndOneKilledChargeEveryItemExactlyOnce) {
    start();
    charge_many_with_a_kill(200);
    const auto charged = stripe->charges();
    EXPECT_EQ(charged.size(), 200U);
    for (const auto& [payment, times] : charged) {
        EXPECT_EQ(times, 1) << payment;
    }
    EXPECT_EQ(count("SELECT count(*) FROM payments p WHERE p.status = 'succeeded'"), 200);
}

}  // namespace
