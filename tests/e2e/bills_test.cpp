// The utility's billing system announces bills (POST /v1/bills, role billing): each account and
// bill id is one bill forever, the same bill again is answered as it stands, other content is
// a conflict that changes nothing, and a bill the customer already paid through the portal is
// paid. Every refusal has its status and code and writes nothing.
#include <gmock/gmock.h>

#include "tests/e2e/schedule_fixture.hpp"

namespace {

using namespace billpay::test;
namespace json = boost::json;

class Bills : public payments_fixture {
  protected:
    static json::object bill(const std::string& bill_id = "2026-12", std::int64_t amount_due = 8450,
                             const std::string& due_date = "2026-12-28",
                             const std::string& account = "1001-2002") {
        return json::object{{"account_number", account},
                            {"bill_id", bill_id},
                            {"amount_due", amount_due},
                            {"currency", "USD"},
                            {"due_date", due_date}};
    }
    http_response send(https_client& c, const json::value& body,
                       const std::string& key = billing_key) {
        return c.request(http::verb::post, "/v1/bills", json::serialize(body), auth(key));
    }
};

TEST_F(Bills, ABillIsRecordedOnceAndTheSameBillAgainIsAnsweredAsItStands) {
    start();
    auto c = client();
    auto first = send(c, bill());
    ASSERT_EQ(first.result(), http::status::created) << first.body();
    auto b = json_of(first);
    EXPECT_EQ(b.at("object"), "bill");
    EXPECT_EQ(b.at("account_number"), "1001-2002");
    EXPECT_EQ(b.at("bill_id"), "2026-12");
    EXPECT_EQ(b.at("amount_due"), 8450);
    EXPECT_EQ(b.at("currency"), "USD");
    EXPECT_EQ(b.at("due_date"), "2026-12-28");
    EXPECT_EQ(b.at("status"), "unpaid");
    EXPECT_TRUE(b.at("payment").is_null());

    auto again = send(c, bill());
    ASSERT_EQ(again.result(), http::status::ok) << again.body();
    EXPECT_EQ(again.body(), first.body());
    EXPECT_EQ(count("SELECT count(*) FROM bills"), 1);
    EXPECT_EQ(text("SELECT client_id FROM bills"), "billing");
}

TEST_F(Bills, OtherContentUnderTheSameBillIdIsAConflictThatChangesNothing) {
    start();
    auto c = client();
    ASSERT_EQ(send(c, bill()).result(), http::status::created);
    for (const auto& changed : {bill("2026-12", 9999), bill("2026-12", 8450, "2027-01-05")}) {
        auto res = send(c, changed);
        ASSERT_EQ(res.result(), http::status::conflict) << res.body();
        auto error = json_of(res).at("error");
        EXPECT_EQ(error.at("code"), "bill_conflict");
        EXPECT_EQ(error.at("param"), "bill_id");
        EXPECT_EQ(error.at("bill").at("amount_due"), 8450);  // the bill that stands
        EXPECT_EQ(error.at("bill").at("due_date"), "2026-12-28");
    }
    EXPECT_EQ(text("SELECT amount_due || ' ' || due_date FROM bills"), "8450 2026-12-28");
    // Another account may have a bill of the same id.
    EXPECT_EQ(send(c, bill("2026-12", 9999, "2026-12-28", "3003-4004")).result(),
              http::status::created);
    EXPECT_EQ(count("SELECT count(*) FROM bills"), 2);
}

TEST_F(Bills, ABillTheCustomerPaidThroughThePortalIsPaid) {
    start();
    auto c = client();
    // Paid before the billing system announced it.
    const auto early = paid(c, 12500, "2026-11");
    auto announced = send(c, bill("2026-11", 12500, "2026-11-30"));
    ASSERT_EQ(announced.result(), http::status::created) << announced.body();
    EXPECT_EQ(json_of(announced).at("status"), "paid");
    EXPECT_EQ(json_of(announced).at("payment"), json::value(early));

    // Announced, then paid: the same bill again says so.
    ASSERT_EQ(send(c, bill()).result(), http::status::created);
    const auto later = paid(c, 8450, "2026-12");
    auto again = send(c, bill());
    ASSERT_EQ(again.result(), http::status::ok) << again.body();
    EXPECT_EQ(json_of(again).at("status"), "paid");
    EXPECT_EQ(json_of(again).at("payment"), json::value(later));

    // A declined payment of a bill does not pay it.
    auto declined = pay(c, payment_body("4000000000000002", "2027-01", 5000), "pay-declined");
    ASSERT_EQ(declined.result(), http::status::payment_required) << declined.body();
    auto unpaid = send(c, bill("2027-01", 5000, "2027-01-28"));
    EXPECT_EQ(json_of(unpaid).at("status"), "unpaid");
}

TEST_F(Bills, BillIdsWithTheirOwnGrammarAreTakenAsTheyAre) {
    start();
    auto c = client();
    // Realistic billing-system ids, a Luhn-valid run of 16 digits included: a bill id is not
    // searched for card numbers.
    for (const char* id : {"INV-2026/11.0042_a", "4242424242424242", "2026.12", "B/77-13"}) {
        auto res = send(c, bill(id));
        EXPECT_EQ(res.result(), http::status::created) << id << ": " << res.body();
        EXPECT_EQ(json_of(res).at("bill_id"), id);
    }
    EXPECT_EQ(count("SELECT count(*) FROM bills"), 4);
}

TEST_F(Bills, EveryRefusalSaysWhatAndWritesNothing) {
    start();
    auto c = client();
    struct refusal {
        json::object body;
        http::status status;
        const char* code;
        const char* param;
    };
    auto without = [](const char* field) {
        auto b = bill();
        b.erase(field);
        return b;
    };
    auto with = [](const char* field, json::value v) {
        auto b = bill();
        b[field] = std::move(v);
        return b;
    };
    const std::vector<refusal> refusals = {
        {without("due_date"), http::status::bad_request, "parameter_missing", "due_date"},
        {without("amount_due"), http::status::bad_request, "parameter_missing", "amount_due"},
        {with("due_date", "2026-02-30"), http::status::bad_request, "parameter_invalid",
         "due_date"},
        {with("due_date", "28/12/2026"), http::status::bad_request, "parameter_invalid",
         "due_date"},
        {with("amount_due", 0), http::status::bad_request, "parameter_invalid", "amount_due"},
        {with("amount_due", 84.5), http::status::bad_request, "parameter_invalid", "amount_due"},
        {with("currency", "XYZ"), http::status::bad_request, "currency_not_supported", "currency"},
        {with("bill_id", "2026 12"), http::status::bad_request, "parameter_invalid", "bill_id"},
        {with("account_number", "1001 2002"), http::status::bad_request, "parameter_invalid",
         "account_number"},
        {with("paid", true), http::status::bad_request, "parameter_unknown", "paid"},
    };
    for (const auto& r : refusals) {
        auto res = send(c, r.body);
        EXPECT_EQ(res.result(), r.status) << json::serialize(r.body) << ": " << res.body();
        auto error = json_of(res).at("error");
        EXPECT_EQ(error.at("code"), r.code) << json::serialize(r.body);
        EXPECT_EQ(error.at("param"), r.param) << json::serialize(r.body);
    }
    // Only the billing system announces bills.
    for (const auto& key : {portal_key, finance_key, ops_key}) {
        EXPECT_EQ(send(c, bill(), key).result(), http::status::forbidden);
    }
    EXPECT_EQ(count("SELECT count(*) FROM bills"), 0);
}

TEST_F(Bills, TheCustomersExportHoldsTheirBillsAndRetentionDeletesBillsLongPastDue) {
    start();
    auto c = client();
    const auto payment = paid(c, 8450, "2026-12");
    ASSERT_EQ(send(c, bill()).result(), http::status::created);
    ASSERT_EQ(send(c, bill("2019-01", 4000, "2019-01-28")).result(), http::status::created);
    ASSERT_EQ(send(c, bill("2026-12", 100, "2026-12-28", "3003-4004")).result(),
              http::status::created);

    auto exported = get(c, "/v1/accounts/1001-2002/export", finance_key);
    ASSERT_EQ(exported.result(), http::status::ok) << exported.body();
    const auto export_document = json_of(exported);
    const auto& bills = export_document.at("bills").as_array();
    ASSERT_EQ(bills.size(), 2U);  // this account's, by due date; not the other account's
    EXPECT_EQ(bills[0].at("bill_id"), "2019-01");
    EXPECT_EQ(bills[0].at("status"), "unpaid");
    EXPECT_EQ(bills[1].at("bill_id"), "2026-12");
    EXPECT_EQ(bills[1].at("payment"), json::value(payment));
    // Only bills: billpayd holds something about the account, so there is an export.
    EXPECT_EQ(get(c, "/v1/accounts/3003-4004/export", finance_key).result(), http::status::ok);

    // retention.payment_days (540): a bill due over 540 days ago goes; the others stay.
    ASSERT_EQ(run_command(ctl() + " purge --dry-run >/dev/null"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM bills"), 3);
    ASSERT_EQ(run_command(ctl() + " purge >/dev/null"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM bills WHERE bill_id = '2019-01'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM bills"), 2);
}

/// AutoPay: one enrollment per account, with a saved card of the account's; it ends when the
/// customer ends it or deletes the card.
class AutoPay : public WithSavedCards {
  protected:
    /// A PUT names the customer AutoPay's notices go to, unless the body says otherwise.
    http_response call(https_client& c, http::verb verb, const std::string& account,
                       json::object body = {}) {
        if (verb == http::verb::put && !body.contains("customer")) {
            body["customer"] = json::object{{"name", "Ada Lovelace"}, {"email", "ada@example.com"}};
        }
        return c.request(verb, "/v1/accounts/" + account + "/autopay",
                         verb == http::verb::put ? json::serialize(body) : "", auth(portal_key));
    }
};

TEST_F(AutoPay, ACustomerEnrollsChangesAndEndsTheirAutoPay) {
    start();
    auto c = client();
    const auto card = saved_card(c);
    EXPECT_EQ(call(c, http::verb::get, "1001-2002").result(), http::status::not_found);

    auto enrolled = call(c, http::verb::put, "1001-2002", {{"payment_method", card}});
    ASSERT_EQ(enrolled.result(), http::status::ok) << enrolled.body();
    auto e = json_of(enrolled);
    EXPECT_EQ(e.at("object"), "autopay");
    EXPECT_EQ(e.at("payment_method"), json::value(card));
    EXPECT_EQ(e.at("days_before_due"), 0);  // on the due date, by default
    EXPECT_TRUE(e.at("max_amount").is_null());
    EXPECT_EQ(e.at("customer").at("email"), "ada@example.com");

    auto changed = call(c, http::verb::put, "1001-2002",
                        {{"payment_method", card}, {"days_before_due", 3}, {"max_amount", 20000}});
    ASSERT_EQ(changed.result(), http::status::ok) << changed.body();
    auto shown = call(c, http::verb::get, "1001-2002");
    ASSERT_EQ(shown.result(), http::status::ok);
    EXPECT_EQ(json_of(shown).at("days_before_due"), 3);
    EXPECT_EQ(json_of(shown).at("max_amount"), 20000);
    EXPECT_EQ(count("SELECT count(*) FROM autopay_enrollments"), 1);
    // The customer's export shows it.
    auto exported = get(c, "/v1/accounts/1001-2002/export", finance_key);
    ASSERT_EQ(exported.result(), http::status::ok) << exported.body();
    EXPECT_EQ(json_of(exported).at("autopay").at("payment_method"), json::value(card));
    EXPECT_EQ(json_of(exported).at("autopay").at("days_before_due"), 3);

    auto ended = call(c, http::verb::delete_, "1001-2002");
    ASSERT_EQ(ended.result(), http::status::ok) << ended.body();
    EXPECT_EQ(json_of(ended).at("deleted"), true);
    EXPECT_EQ(call(c, http::verb::get, "1001-2002").result(), http::status::not_found);
    EXPECT_EQ(call(c, http::verb::delete_, "1001-2002").result(), http::status::not_found);
}

TEST_F(AutoPay, DeletingTheCardEndsTheAutoPayItPays) {
    start();
    auto c = client();
    const auto card = saved_card(c);
    ASSERT_EQ(call(c, http::verb::put, "1001-2002", {{"payment_method", card}}).result(),
              http::status::ok);
    auto deleted =
        c.request(http::verb::delete_, "/v1/payment_methods/" + card + "?account_number=1001-2002",
                  "", auth(portal_key));
    ASSERT_EQ(deleted.result(), http::status::ok) << deleted.body();
    EXPECT_EQ(call(c, http::verb::get, "1001-2002").result(), http::status::not_found);
    // The customer is told, once, through the outbox: their bills are no longer paid for them.
    EXPECT_EQ(count("SELECT count(*) FROM outbox_messages WHERE type = 'autopay_ended'"
                    " AND account_number = '1001-2002'"
                    " AND body::json->'customer'->>'email' = 'ada@example.com'"
                    " AND body::json->>'reason' = 'card_removed'"
                    " AND body::json->'autopay'->'card'->>'last4' = '4242'"),
              1);
    // A deleted card cannot be enrolled again.
    auto again = call(c, http::verb::put, "1001-2002", {{"payment_method", card}});
    EXPECT_EQ(again.result(), http::status::bad_request);
    EXPECT_EQ(json_of(again).at("error").at("code"), "resource_missing");
    EXPECT_EQ(count("SELECT count(*) FROM autopay_enrollments"), 0);
}

TEST_F(AutoPay, EveryRefusalSaysWhatAndEnrollsNothing) {
    start();
    auto c = client();
    const auto card = saved_card(c);
    const auto other_accounts = saved_card(c, "3003-4004", "5555555555554444");
    struct refusal {
        json::object body;
        const char* code;
        const char* param;
    };
    const std::vector<refusal> refusals = {
        {{{"payment_method", other_accounts}}, "resource_missing", "payment_method"},
        {{{"payment_method", "pm_nosuchcard"}}, "resource_missing", "payment_method"},
        {{{"days_before_due", 2}}, "parameter_missing", "payment_method"},
        {{{"payment_method", card}, {"days_before_due", 11}},
         "parameter_invalid",
         "days_before_due"},
        {{{"payment_method", card}, {"days_before_due", -1}},
         "parameter_invalid",
         "days_before_due"},
        {{{"payment_method", card}, {"max_amount", 0}}, "parameter_invalid", "max_amount"},
        {{{"payment_method", card}, {"pay_on", "2026-12-28"}}, "parameter_unknown", "pay_on"},
        {{{"payment_method", card}, {"customer", nullptr}}, "parameter_missing", "customer"},
        {{{"payment_method", card}, {"customer", json::object{{"name", "Ada"}, {"email", "ada"}}}},
         "parameter_invalid",
         "customer.email"},
    };
    for (const auto& r : refusals) {
        auto res = call(c, http::verb::put, "1001-2002", r.body);
        EXPECT_EQ(res.result(), http::status::bad_request)
            << json::serialize(r.body) << ": " << res.body();
        auto error = json_of(res).at("error");
        EXPECT_EQ(error.at("code"), r.code) << json::serialize(r.body);
        EXPECT_EQ(error.at("param"), r.param) << json::serialize(r.body);
    }
    // Only the customer's portal enrolls.
    auto by_finance =
        c.request(http::verb::put, "/v1/accounts/1001-2002/autopay",
                  json::serialize(json::object{
                      {"payment_method", card},
                      {"customer", json::object{{"name", "Ada"}, {"email", "ada@example.com"}}}}),
                  auth(finance_key));
    EXPECT_EQ(by_finance.result(), http::status::forbidden);
    EXPECT_EQ(count("SELECT count(*) FROM autopay_enrollments"), 0);
}

using ScheduledPayments = scheduled_payments_fixture;

TEST_F(ScheduledPayments, APaymentIsKeptForItsDayListedAndCanceledOnce) {
    start();
    auto c = client();
    const auto card = saved_card(c);
    const auto day = local_day(5);
    auto first = schedule(c, scheduled(card, day), "sch-1");
    ASSERT_EQ(first.result(), http::status::created) << first.body();
    auto p = json_of(first);
    EXPECT_EQ(p.at("object"), "scheduled_payment");
    EXPECT_TRUE(p.at("id").as_string().starts_with("sch_"));
    EXPECT_EQ(p.at("status"), "scheduled");
    EXPECT_EQ(p.at("pay_on"), json::value(day));
    EXPECT_EQ(p.at("amount"), 8450);
    EXPECT_TRUE(p.at("payment").is_null());
    const std::string id(p.at("id").as_string());

    // The same key: the same answer, and one scheduled payment.
    auto replay = schedule(c, scheduled(card, day), "sch-1");
    EXPECT_EQ(replay.body(), first.body());
    EXPECT_EQ(replay["Idempotent-Replayed"], "true");
    EXPECT_EQ(count("SELECT count(*) FROM scheduled_payments"), 1);
    // Nothing is charged before its day's run.
    EXPECT_EQ(count("SELECT count(*) FROM payments"), 0);

    auto listed = get(c, "/v1/scheduled_payments?account_number=1001-2002");
    ASSERT_EQ(listed.result(), http::status::ok) << listed.body();
    EXPECT_EQ(json_of(listed).at("data").as_array().size(), 1U);
    auto others = get(c, "/v1/scheduled_payments?account_number=3003-4004");
    EXPECT_TRUE(json_of(others).at("data").as_array().empty());

    // Another account's is as absent as none.
    EXPECT_EQ(cancel(c, id, "3003-4004").result(), http::status::not_found);
    auto canceled = cancel(c, id);
    ASSERT_EQ(canceled.result(), http::status::ok) << canceled.body();
    EXPECT_EQ(json_of(canceled).at("status"), "canceled");
    EXPECT_EQ(cancel(c, id).result(), http::status::ok);  // canceled already: so it stays
    EXPECT_EQ(count("SELECT count(*) FROM scheduled_payments WHERE status = 'canceled'"), 1);
}

TEST_F(ScheduledPayments, OnceItsRunHasBegunItCanNoLongerBeCanceled) {
    start();
    auto c = client();
    const auto card = saved_card(c);
    auto res = schedule(c, scheduled(card, local_day(0)), "sch-today");
    ASSERT_EQ(res.result(), http::status::created) << res.body();
    const std::string id(json_of(res).at("id").as_string());
    exec("UPDATE scheduled_payments SET status = 'running' WHERE id = '" + id + "'");
    auto refused = cancel(c, id);
    ASSERT_EQ(refused.result(), http::status::conflict) << refused.body();
    EXPECT_EQ(json_of(refused).at("error").at("code"), "schedule_in_progress");
    EXPECT_EQ(text("SELECT status FROM scheduled_payments"), "running");
}

TEST_F(ScheduledPayments, EveryRefusalSaysWhatAndSchedulesNothing) {
    start();
    auto c = client();
    const auto card = saved_card(c);
    const auto other_accounts = saved_card(c, "3003-4004", "5555555555554444");
    // A card that expires at the end of this month, and a day next month.
    const auto today = local_day(0);
    const auto expiring = saved_card(c, "1001-2002", "4000056655665556",
                                     std::stoi(today.substr(5, 2)), std::stoi(today.substr(0, 4)));
    struct refusal {
        json::object body;
        const char* code;
        const char* param;
    };
    auto with = [&](const char* field, json::value v) {
        auto b = scheduled(card, local_day(3));
        b[field] = std::move(v);
        return b;
    };
    auto without = [&](const char* field) {
        auto b = scheduled(card, local_day(3));
        b.erase(field);
        return b;
    };
    const std::vector<refusal> refusals = {
        {scheduled(card, local_day(-1)), "parameter_invalid", "pay_on"},
        {scheduled(card, local_day(91)), "parameter_invalid", "pay_on"},
        {scheduled(expiring, local_day(40)), "card_expires_before_pay_on", "pay_on"},
        {scheduled(other_accounts, local_day(3)), "resource_missing", "payment_method"},
        {with("pay_on", "2026-13-01"), "parameter_invalid", "pay_on"},
        {with("currency", "XYZ"), "currency_not_supported", "currency"},
        {with("amount", 5000001), "amount_too_large", "amount"},
        {without("customer"), "parameter_missing", "customer"},
        {without("payment_method"), "parameter_missing", "payment_method"},
        {with("card", json::object{}), "parameter_unknown", "card"},
    };
    int n = 0;
    for (const auto& r : refusals) {
        auto res = schedule(c, r.body, "refused-" + std::to_string(++n));
        EXPECT_EQ(res.result(), http::status::bad_request)
            << json::serialize(r.body) << ": " << res.body();
        auto error = json_of(res).at("error");
        EXPECT_EQ(error.at("code"), r.code) << json::serialize(r.body);
        EXPECT_EQ(error.at("param"), r.param) << json::serialize(r.body);
    }
    EXPECT_EQ(schedule(c, scheduled(card, local_day(3)), "by-finance", finance_key).result(),
              http::status::forbidden);
    EXPECT_EQ(count("SELECT count(*) FROM scheduled_payments"), 0);
    // The same card on the horizon's last day is taken.
    EXPECT_EQ(schedule(c, scheduled(card, local_day(90)), "at-horizon").result(),
              http::status::created);
}

TEST_F(ScheduledPayments, TheExportHoldsThemAndRetentionReducesFinishedOnes) {
    start();
    auto c = client();
    const auto card = saved_card(c);
    auto kept = schedule(c, scheduled(card, local_day(4)), "sch-kept");
    auto old = schedule(c, scheduled(card, local_day(2)), "sch-old");
    ASSERT_EQ(kept.result(), http::status::created) << kept.body();
    ASSERT_EQ(old.result(), http::status::created) << old.body();
    const std::string old_id(json_of(old).at("id").as_string());
    ASSERT_EQ(cancel(c, old_id).result(), http::status::ok);

    auto exported = get(c, "/v1/accounts/1001-2002/export", finance_key);
    ASSERT_EQ(exported.result(), http::status::ok) << exported.body();
    const auto document = json_of(exported);
    const auto& listed = document.at("scheduled_payments").as_array();
    ASSERT_EQ(listed.size(), 2U);
    EXPECT_EQ(listed[0].at("id"), json::value(old_id));  // by pay_on
    EXPECT_EQ(listed[0].at("customer_email"), "ada@example.com");

    // Canceled longer ago than retention.payment_days: the name and email go; the scheduled
    // one keeps them (it still needs them for its receipt).
    exec(
        "UPDATE scheduled_payments SET updated_at = now() - interval '600 days'"
        " WHERE id = '" +
        old_id + "'");
    ASSERT_EQ(run_command(ctl() + " purge >/dev/null"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM scheduled_payments WHERE customer_email IS NULL"
                    " AND id = '" +
                    old_id + "'"),
              1);
    EXPECT_EQ(count("SELECT count(*) FROM scheduled_payments WHERE customer_email IS NOT NULL"), 1);
}

TEST_F(ScheduledPayments, ARetryAfterALostAnswerFindsTheScheduleItMayHaveMadeNeverASecond) {
    start();
    auto c = client();
    const auto card = saved_card(c);
    auto first = schedule(c, scheduled(card, local_day(6)), "sch-lost");
    ASSERT_EQ(first.result(), http::status::created) << first.body();
    // The commit stood but its answer was lost: the API gave the key back (a 503 whose outcome
    // is unknown), so the retry claims it afresh and runs again.
    exec("DELETE FROM idempotency_keys");
    auto retry = schedule(c, scheduled(card, local_day(6)), "sch-lost");
    ASSERT_EQ(retry.result(), http::status::created) << retry.body();
    EXPECT_EQ(json_of(retry).at("id"), json_of(first).at("id"));
    EXPECT_EQ(count("SELECT count(*) FROM scheduled_payments"), 1);
    // The same key for another payment is a reused key: nothing changes.
    exec("DELETE FROM idempotency_keys");
    auto other = schedule(c, scheduled(card, local_day(6), 9999), "sch-lost");
    ASSERT_EQ(other.result(), http::status::unprocessable_entity) << other.body();
    EXPECT_EQ(json_of(other).at("error").at("code"), "idempotency_key_reused");
    EXPECT_EQ(text("SELECT amount FROM scheduled_payments"), "8450");
    // Another key is another scheduled payment.
    EXPECT_EQ(schedule(c, scheduled(card, local_day(6)), "sch-other").result(),
              http::status::created);
    EXPECT_EQ(count("SELECT count(*) FROM scheduled_payments"), 2);
}

}  // namespace
