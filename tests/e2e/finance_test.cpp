// Finance staff's tools end to end: refunds over the API and billpayctl, the audit trail and its
// verification, settlement import, reconciliation (each exception class) and the reports.
#include <gmock/gmock.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <future>
#include <sstream>

#include "model/money.hpp"
#include "tests/e2e/payments_fixture.hpp"

namespace {

using namespace billpay::test;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
namespace json = boost::json;

class Finance : public payments_fixture {
  protected:
    http_response refund(https_client& c, const std::string& payment_id, const json::object& body,
                         const std::string& key, const std::string& api_key = finance_key) {
        return post(c, "/v1/payments/" + payment_id + "/refunds", body, api_key, key);
    }

    json::value payment(https_client& c, const std::string& id) {
        return json_of(get(c, "/v1/payments/" + id + "?account_number=1001-2002"));
    }
};

TEST_F(Finance, RefundsFullAndPartialNeverMoreThanWasPaidAndReplayByKey) {
    start();
    auto c = client();
    auto id = paid(c, 10000, "2026-11");

    auto first = refund(c, id, {{"amount", 2500}, {"reason", "billed twice for November"}}, "r1");
    ASSERT_EQ(first.result(), http::status::created) << first.body();
    auto r = json_of(first);
    EXPECT_EQ(r.at("object"), "refund");
    EXPECT_EQ(r.at("status"), "succeeded");
    EXPECT_EQ(r.at("kind"), "refund");
    EXPECT_EQ(r.at("amount"), 2500);
    EXPECT_EQ(r.at("requested_by"), "finance");
    EXPECT_EQ(payment(c, id).at("status"), "partially_refunded");
    EXPECT_EQ(payment(c, id).at("amount_refunded"), 2500);

    // The same key: the same answer, and no second refund.
    auto replay = refund(c, id, {{"amount", 2500}, {"reason", "billed twice for November"}}, "r1");
    EXPECT_EQ(replay.body(), first.body());
    EXPECT_EQ(replay["Idempotent-Replayed"], "true");
    EXPECT_EQ(count("SELECT count(*) FROM refunds"), 1);

    // More than remains is refused, and nothing changes.
    auto over = refund(c, id, {{"amount", 7501}, {"reason", "too much"}}, "r2");
    EXPECT_EQ(over.result(), http::status::bad_request) << over.body();
    EXPECT_EQ(json_of(over).at("error").at("code"), "amount_too_large");
    EXPECT_EQ(json_of(over).at("error").at("param"), "amount");
    EXPECT_EQ(count("SELECT count(*) FROM refunds"), 1);
    EXPECT_EQ(payment(c, id).at("amount_refunded"), 2500);

    // Without an amount: all that remains.
    auto rest = refund(c, id, {{"reason", "account closed"}}, "r3");
    ASSERT_EQ(rest.result(), http::status::created) << rest.body();
    EXPECT_EQ(json_of(rest).at("amount"), 7500);
    EXPECT_EQ(payment(c, id).at("status"), "refunded");
    auto nothing_left = refund(c, id, {{"reason", "again"}}, "r4");
    EXPECT_EQ(json_of(nothing_left).at("error").at("code"), "payment_not_refundable");

    // The simulator (the processor) gave back exactly what billpayd says.
    EXPECT_EQ(processor_refunded(), 10000);
    // One refund_receipt per refund went to the outbox with the refund's fields.
    EXPECT_EQ(count("SELECT count(*) FROM outbox_messages WHERE type = 'refund_receipt'"), 2);
    auto receipt = json::parse(
        text("SELECT body FROM outbox_messages WHERE type = 'refund_receipt' ORDER BY created_at"
             " LIMIT 1"));
    EXPECT_EQ(receipt.at("refund").at("amount"), 2500);
    EXPECT_EQ(receipt.at("refund").at("reason"), "billed twice for November");
    EXPECT_EQ(receipt.at("payment").at("status"), "partially_refunded");
    EXPECT_EQ(receipt.at("customer").at("email"), "ada@example.com");

    auto listed = get(c, "/v1/payments/" + id + "/refunds", finance_key);
    ASSERT_EQ(listed.result(), http::status::ok) << listed.body();
    EXPECT_EQ(json_of(listed).at("data").as_array().size(), 2u);
}

TEST_F(Finance, ARefundWhoseAnswerWasLostStaysPendingUntilTheProcessorIsAskedAgain) {
    start();
    auto c = client();
    auto id = paid(c, 6000, "2026-11");
    // The processor now answers after billpayd's deadline: the refund's outcome is unknown.
    daemon.reset();
    config.extra_root = clients_yaml() + gateway_yaml(1500) + payments_yaml(2000, 20) +
                        "finance:\n  refund_recovery_after_ms: 2000\n";
    start();
    auto slow = client();
    auto res = refund(slow, id, {{"amount", 6000}, {"reason", "moved away"}}, "slow");
    ASSERT_EQ(res.result(), http::status::accepted) << res.body();
    EXPECT_EQ(json_of(res).at("status"), "pending");
    EXPECT_EQ(payment(slow, id).at("status"),
              "succeeded");  // nothing refunded yet, as far as known
    // A second refund cannot take the held amount meanwhile.
    auto meanwhile = refund(slow, id, {{"amount", 1}, {"reason", "x"}}, "meanwhile");
    EXPECT_EQ(json_of(meanwhile).at("error").at("code"), "payment_not_refundable");

    // The processor answers in time again: the recovery worker asks again under the same key.
    daemon.reset();
    config.extra_root = clients_yaml() + gateway_yaml(0) + payments_yaml(2000, 20) +
                        "finance:\n  refund_recovery_after_ms: 2000\n";
    start();
    auto fast = client();
    auto deadline = std::chrono::steady_clock::now() + 15s;
    while (count("SELECT count(*) FROM refunds WHERE status = 'pending'") > 0 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(text("SELECT status FROM refunds"), "succeeded");
    EXPECT_EQ(payment(fast, id).at("status"), "refunded");
    EXPECT_EQ(processor_refunded(), 6000);  // once
    EXPECT_EQ(count("SELECT count(*) FROM outbox_messages WHERE type = 'refund_receipt'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE action = 'refund.succeeded'"
                    " AND actor = 'billpayd:recovery'"),
              1);
}

TEST_F(Finance, ARefundIsForTheFinanceRoleAndNamesItsFields) {
    start();
    auto c = client();
    auto id = paid(c, 5000, "2026-11");
    auto portal = refund(c, id, {{"reason", "mine"}}, "p1", portal_key);
    EXPECT_EQ(portal.result(), http::status::forbidden) << portal.body();
    auto no_reason = refund(c, id, {{"amount", 100}}, "p2");
    EXPECT_EQ(json_of(no_reason).at("error").at("param"), "reason");
    auto bad_amount = refund(c, id, {{"amount", -5}, {"reason", "x"}}, "p3");
    EXPECT_EQ(json_of(bad_amount).at("error").at("param"), "amount");
    auto unknown = refund(c, id, {{"amount", 5}, {"reason", "x"}, {"tip", 1}}, "p4");
    EXPECT_EQ(json_of(unknown).at("error").at("param"), "tip");
    auto missing = refund(c, "pay_nosuchpayment00000000000000", {{"reason", "x"}}, "p5");
    EXPECT_EQ(missing.result(), http::status::not_found);
    EXPECT_EQ(count("SELECT count(*) FROM refunds"), 0);
}

TEST_F(Finance, ConcurrentRefundsThatTogetherExceedThePaymentAreRefusedOneByOne) {
    config.extra_root = clients_yaml() + gateway_yaml(150) + payments_yaml();
    start();
    auto c = client();
    auto id = paid(c, 10000, "2026-11");
    // Eight refunds of 30.00 at once against 100.00: three fit, five must be refused.
    std::vector<std::future<http::status>> tries;
    for (int i = 0; i < 8; ++i) {
        tries.push_back(std::async(std::launch::async, [&, i] {
            https_client own(daemon->port());
            return refund(own, id, {{"amount", 3000}, {"reason", "race"}},
                          "race-" + std::to_string(i))
                .result();
        }));
    }
    int created = 0;
    int refused = 0;
    for (auto& t : tries) {
        auto status = t.get();
        created += status == http::status::created;
        refused += status == http::status::bad_request;
    }
    EXPECT_EQ(created, 3);
    EXPECT_EQ(refused, 5);
    EXPECT_EQ(payment(c, id).at("amount_refunded"), 9000);
    EXPECT_EQ(processor_refunded(), 9000);
}

TEST_F(Finance, BillpayctlRefundsOnceByKeyAndTheAuditTrailCatchesAHandEdit) {
    start();
    auto c = client();
    auto id = paid(c, 4200, "2026-11");
    auto out = capture_command(ctl() + " refund " + id +
                               " --amount 1200 --reason 'meter misread' --idempotency-key k1 2>&1");
    EXPECT_THAT(out, HasSubstr("succeeded"));
    EXPECT_THAT(out, HasSubstr("partially_refunded"));
    EXPECT_EQ(
        run_command(ctl() + " refund " + id +
                    " --amount 1200 --reason 'meter misread' --idempotency-key k1 >/dev/null"),
        0);
    EXPECT_EQ(count("SELECT count(*) FROM refunds"), 1);
    EXPECT_EQ(run_command(ctl() + " refund " + id + " --amount 5000 --reason x 2>/dev/null"), 1);
    EXPECT_EQ(
        run_command(ctl() + " refund " + id + " --reason \"$(printf 'x\\033[31m')\" 2>/dev/null"),
        2);  // control characters never reach the audit trail or a receipt

    // A finance read of a customer's payments is audited too.
    auto read = get(c, "/v1/payments/" + id, finance_key);
    ASSERT_EQ(read.result(), http::status::ok);
    EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE action = 'payments.read'"
                    " AND actor = 'finance'"),
              1);
    ASSERT_EQ(get(c, "/v1/payments?account_number=1001-2002", finance_key).result(),
              http::status::ok);
    ASSERT_EQ(get(c, "/v1/payment_methods?account_number=1001-2002", finance_key).result(),
              http::status::ok);
    EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE action IN ('payments.listed',"
                    " 'payment_methods.listed') AND source = '127.0.0.1'"),
              2);
    // The portal reading its own customer's payments is not finance's business to audit.
    ASSERT_EQ(get(c, "/v1/payments?account_number=1001-2002").result(), http::status::ok);
    EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE actor = 'portal'"), 0);
    auto trail = capture_command(ctl() + " audit list --record " + id);
    EXPECT_THAT(trail, HasSubstr("refund.requested"));
    EXPECT_THAT(trail, HasSubstr("refund.succeeded"));
    EXPECT_THAT(trail, HasSubstr("meter misread"));

    EXPECT_EQ(run_command(ctl() + " audit verify >/dev/null"), 0);
    // billpayd's role may only add rows.
    pqxx::connection conn(database.dsn());
    EXPECT_THROW(
        {
            pqxx::work tx(conn);
            tx.exec(
                "UPDATE audit_log SET reason = 'nothing to see' WHERE action = "
                "'refund.requested'");
            tx.commit();
        },
        pqxx::sql_error);
    // Someone with the power to switch the guard off edits a row by hand: verify names it.
    auto edited = count("SELECT id FROM audit_log WHERE action = 'refund.requested'");
    {
        pqxx::work tx(conn);
        tx.exec("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update");
        tx.exec(
            "UPDATE audit_log SET reason = 'nothing to see' WHERE action = "
            "'refund.requested'");
        tx.exec("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update");
        tx.commit();
    }
    auto verdict = capture_command(ctl() + " audit verify; echo exit=$?");
    EXPECT_THAT(verdict, HasSubstr("BROKEN at row " + std::to_string(edited)));
    EXPECT_THAT(verdict, HasSubstr("exit=1"));
}

TEST_F(Finance, ADeletedAuditRowBreaksTheChainAtTheRowAfterIt) {
    start();
    auto c = client();
    auto id = paid(c, 1000, "2026-11");
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(get(c, "/v1/payments/" + id, finance_key).result(), http::status::ok);
    }
    auto rows = count("SELECT count(*) FROM audit_log");
    ASSERT_GE(rows, 3);
    auto second = count("SELECT id FROM audit_log ORDER BY id OFFSET 1 LIMIT 1");
    auto third = count("SELECT id FROM audit_log ORDER BY id OFFSET 2 LIMIT 1");
    pqxx::connection conn(database.dsn());
    {
        pqxx::work tx(conn);
        tx.exec("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update");
        tx.exec_params("DELETE FROM audit_log WHERE id = $1", second);
        tx.exec("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update");
        tx.commit();
    }
    auto verdict = capture_command(ctl() + " audit verify");
    EXPECT_THAT(verdict, HasSubstr("BROKEN at row " + std::to_string(third)));
}

/// A generic settlement file's line.
std::string generic_line(const std::string& line_id, const std::string& day,
                         const std::string& kind, const std::string& reference,
                         const std::string& gross, const std::string& fee = "0.00",
                         const std::string& refund_reference = "") {
    auto unit = *billpay::model::currency::parse("USD");
    auto net =
        *billpay::model::parse_decimal(gross, unit) - *billpay::model::parse_decimal(fee, unit);
    return line_id + "," + day + "T18:00:00Z," + kind + "," + reference + "," + refund_reference +
           ",usd," + gross + "," + fee + "," + billpay::model::to_decimal({net, unit}) + ",po_1\n";
}

const std::string generic_header =
    "line_id,settled_at,kind,reference,refund_reference,currency,gross,fee,net,payout_id\n";

TEST_F(Finance, EachExceptionClassIsFoundAndTheRunIsStoredAndReported) {
    start();
    auto c = client();
    auto matched = paid(c, 5000, "m");
    auto mismatched = paid(c, 6000, "mm");
    auto unsettled_old = paid(c, 7000, "old");
    auto refunded = paid(c, 8000, "ref");
    auto young = paid(c, 1500, "young");
    ASSERT_EQ(refund(c, refunded, {{"amount", 800}, {"reason", "r"}}, "rf").result(),
              http::status::created);
    auto ref_id = text("SELECT processor_reference FROM refunds");
    auto reference = [&](const std::string& id) {
        return text("SELECT processor_reference FROM payments WHERE id = '" + id + "'");
    };
    // One payment and the refund were made ten days ago (as far as the books say).
    pqxx::connection conn(database.dsn());
    {
        pqxx::work tx(conn);
        tx.exec_params("UPDATE payments SET created_at = now() - interval '10 days' WHERE id = $1",
                       unsettled_old);
        tx.exec("UPDATE refunds SET created_at = now() - interval '10 days'");
        tx.commit();
    }
    auto today = local_day();
    auto file = dir / "crafted.csv";
    write_file(file,
               generic_header +
                   generic_line("l1", today, "charge", reference(matched), "50.00", "1.75") +
                   generic_line("l2", today, "charge", reference(mismatched), "59.00", "2.00") +
                   generic_line("l3", today, "charge", "ch_neverheardof", "12.34") +
                   generic_line("l4", today, "charge", reference(refunded), "80.00") +
                   generic_line("l5", today, "charge", reference(refunded), "80.00") +
                   generic_line("l6", today, "refund", reference(matched), "-3.00", "0.00",
                                "re_nobodymadethis"));
    ASSERT_EQ(run_command(ctl() + " settlements import --processor simulator --format generic " +
                          file.string() + " >/dev/null"),
              0);
    auto out = capture_command(ctl() + " reconcile --from " + local_day(-11) + " --to " + today +
                               "; echo exit=$?");
    EXPECT_THAT(out, HasSubstr("exit=3"));
    for (const char* cls : {"amount_mismatch", "unknown_to_billpayd", "duplicate", "not_settled",
                            "refund_not_settled", "refund_unknown_to_billpayd"}) {
        EXPECT_THAT(out, HasSubstr(cls)) << out;
    }
    auto run_id = text("SELECT id FROM reconciliation_runs");
    EXPECT_EQ(count("SELECT count(*) FROM reconciliation_items WHERE class = 'matched'"), 2);
    EXPECT_EQ(count("SELECT count(*) FROM reconciliation_items WHERE class = 'awaiting_settlement'"
                    " AND payment_id = '" +
                    young + "'"),
              1);
    EXPECT_EQ(count("SELECT count(*) FROM reconciliation_items WHERE class = 'not_settled'"
                    " AND payment_id = '" +
                    unsettled_old + "'"),
              1);
    EXPECT_EQ(count("SELECT count(*) FROM reconciliation_items WHERE class = 'refund_not_settled'"
                    " AND reference = '" +
                    ref_id + "'"),
              1);

    // Finance reads the run and the day's report over the API.
    auto run = get(c, "/v1/reconciliations/" + run_id, finance_key);
    ASSERT_EQ(run.result(), http::status::ok) << run.body();
    EXPECT_EQ(json_of(run).at("exceptions"), 6);
    auto report = get(c, "/v1/reports/daily?from=" + today + "&to=" + today, finance_key);
    ASSERT_EQ(report.result(), http::status::ok) << report.body();
    auto days = json_of(report).at("days").as_array();
    ASSERT_EQ(days.size(), 1u);
    EXPECT_EQ(days[0].at("payments").at("count"), 4);  // one was moved ten days back
    EXPECT_EQ(days[0].at("payments").at("amount"), 5000 + 6000 + 8000 + 1500);
    EXPECT_EQ(days[0].at("fees"), 375);
    EXPECT_GE(json_of(report).at("exceptions").as_array().size(), 3u);
    EXPECT_EQ(get(c, "/v1/reports/daily?from=" + today, finance_key).result(),
              http::status::bad_request);
    EXPECT_EQ(get(c, "/v1/reports/daily?from=" + today + "&to=" + today, portal_key).result(),
              http::status::forbidden);
}

TEST_F(Finance, AnEveningPaymentIsReconciledOnItsOwnDayWhereTheUtilityIs) {
    // The utility's day (America/Chicago here) and UTC's part every evening: a payment at
    // 21:30 in Chicago is made the next day in UTC. Reconciliation selects by the local day and
    // must judge (and label) by it too, whatever the hour the run, or this test, happens at.
    start();
    auto c = client();
    auto morning = paid(c, 2100, "morning");
    auto evening = paid(c, 2200, "evening");
    {
        pqxx::connection conn(database.dsn());
        pqxx::work tx(conn);
        tx.exec_params("UPDATE payments SET created_at = '2026-11-09 15:00:00+00' WHERE id = $1",
                       morning);  // 09:00 CST
        tx.exec_params("UPDATE payments SET created_at = '2026-11-10 03:30:00+00' WHERE id = $1",
                       evening);  // 21:30 CST, Nov 9
        tx.commit();
    }
    // The morning payment settled at 20:00 CST on Nov 9 (02:00 UTC on the 10th).
    auto file = dir / "evening.csv";
    write_file(file,
               generic_header + "l-evening,2026-11-10T02:00:00Z,charge," +
                   text("SELECT processor_reference FROM payments WHERE id = '" + morning + "'") +
                   ",,usd,21.00,0.00,21.00,po_1\n");
    ASSERT_EQ(run_command(ctl() + " settlements import --processor simulator --format generic " +
                          file.string() + " >/dev/null"),
              0);
    auto out = capture_command(ctl() +
                               " reconcile --from 2026-11-09 --to 2026-11-09 --today 2026-11-20;"
                               " echo exit=$?");
    EXPECT_THAT(out, HasSubstr("exit=3")) << out;
    EXPECT_EQ(count("SELECT count(*) FROM reconciliation_items WHERE class = 'matched'"
                    " AND day = '2026-11-09' AND payment_id = '" +
                    morning + "'"),
              1)
        << out;
    EXPECT_EQ(count("SELECT count(*) FROM reconciliation_items WHERE class = 'not_settled'"
                    " AND day = '2026-11-09' AND payment_id = '" +
                    evening + "'"),
              1)
        << out;
    // The next local day holds neither.
    capture_command(ctl() + " reconcile --from 2026-11-10 --to 2026-11-10 --today 2026-11-20");
    EXPECT_EQ(count("SELECT count(*) FROM reconciliation_items WHERE day = '2026-11-10'"), 0);
}

TEST_F(Finance, AMalformedFileImportsNothingAndTheSameFileTwiceIsANoOp) {
    start();
    auto c = client();
    auto id = paid(c, 5000, "m");
    auto reference = text("SELECT processor_reference FROM payments");
    auto today = local_day();
    auto bad = dir / "bad.csv";
    write_file(bad, generic_header + generic_line("l1", today, "charge", reference, "50.00") +
                        "l2," + today + "T18:00:00Z,charge,x,,usd,12.345,0.00,12.345,po\n" +
                        "l3,yesterday,charge,y,,usd,1.00,0.00,1.00,po\n");
    auto out =
        capture_command(ctl() + " settlements import --processor simulator --format generic " +
                        bad.string() + " 2>&1; echo exit=$?");
    EXPECT_THAT(out, HasSubstr(bad.string() + ":3: gross \"12.345\" is not an amount in USD"));
    EXPECT_THAT(out, HasSubstr(bad.string() + ":4: settled_at \"yesterday\""));
    EXPECT_THAT(out, HasSubstr("exit=1"));
    EXPECT_EQ(count("SELECT count(*) FROM settlement_lines"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM settlement_imports"), 0);

    auto good = dir / "good.csv";
    write_file(good, generic_header + generic_line("l1", today, "charge", reference, "50.00"));
    auto cmd =
        ctl() + " settlements import --processor simulator --format generic " + good.string();
    EXPECT_THAT(capture_command(cmd), HasSubstr("imported 1 lines"));
    auto audit_rows = count("SELECT count(*) FROM audit_log");
    EXPECT_THAT(capture_command(cmd), HasSubstr("nothing changed"));
    EXPECT_EQ(count("SELECT count(*) FROM settlement_lines"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM settlement_imports"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM audit_log"), audit_rows);
    EXPECT_EQ(run_command(ctl() + " reconcile --from " + today + " --to " + today + " >/dev/null"),
              0);
    // The daily timer's form: the seven days before today.
    EXPECT_THAT(capture_command(ctl() + " reconcile --last-days 7"),
                HasSubstr(local_day(-7) + " to " + local_day(-1)));
    (void)id;
}

TEST_F(Finance, ALineReportedAgainWithOtherContentRefusesTheFileNamingIt) {
    start();
    auto c = client();
    paid(c, 5000, "r1");
    auto reference = text("SELECT processor_reference FROM payments");
    auto today = local_day();
    auto first = dir / "first.csv";
    write_file(first, generic_header + generic_line("l1", today, "charge", reference, "50.00"));
    auto import = [&](const std::filesystem::path& file) {
        return capture_command(ctl() +
                               " settlements import --processor simulator --format generic " +
                               file.string() + " 2>&1; echo exit=$?");
    };
    EXPECT_THAT(import(first), HasSubstr("imported 1 lines"));

    // The next report overlaps: l1 again, as it was (skipped), and a new line l2.
    auto overlap = dir / "overlap.csv";
    write_file(overlap, generic_header + generic_line("l1", today, "charge", reference, "50.00") +
                            generic_line("l2", today, "fee", "", "-1.00"));
    EXPECT_THAT(import(overlap), HasSubstr("imported 1 lines"));
    EXPECT_EQ(count("SELECT count(*) FROM settlement_lines"), 2);

    // Then a report in which l1 has another amount: the processor restated it. Skipping it would
    // leave the books on the first figure without anyone knowing; the file is refused, naming it.
    auto restated = dir / "restated.csv";
    write_file(restated, generic_header + generic_line("l3", today, "fee", "", "-2.00") +
                             generic_line("l1", today, "charge", reference, "49.00"));
    auto out = import(restated);
    EXPECT_THAT(out, HasSubstr(restated.string() + ":3: l1 was imported before (imp_"));
    EXPECT_THAT(out, HasSubstr("with another gross, net"));
    EXPECT_THAT(out, HasSubstr("nothing imported"));
    EXPECT_THAT(out, HasSubstr("exit=1"));
    EXPECT_EQ(count("SELECT count(*) FROM settlement_lines"), 2);  // not even l3
    EXPECT_EQ(count("SELECT count(*) FROM settlement_imports"), 2);
    EXPECT_EQ(count("SELECT gross FROM settlement_lines WHERE line_id = 'l1'"), 5000);
}

TEST_F(Finance, ReportsComeAsCsvJsonHtmlAndABalancedGeneralLedger) {
    start();
    auto c = client();
    auto a = paid(c, 123456, "a");
    paid(c, 10, "b");
    ASSERT_EQ(refund(c, a, {{"amount", 456}, {"reason", "r"}}, "rf").result(),
              http::status::created);
    auto today = local_day();
    auto csv = capture_command(ctl() + " report daily --from " + today + " --to " + today);
    EXPECT_THAT(csv, HasSubstr(today + ",simulator,USD,2,1234.66,1,4.56,0.00,1230.10"));
    auto json_text =
        capture_command(ctl() + " report daily --format json --from " + today + " --to " + today);
    auto report = json::parse(json_text);
    EXPECT_EQ(report.at("days").at(0).at("net"), 123466 - 456);
    auto html_file = dir / "report.html";
    ASSERT_EQ(run_command(ctl() + " report daily --format html --from " + today + " --to " + today +
                          " -o " + html_file.string()),
              0);
    auto page = read_file(html_file);
    EXPECT_THAT(page, HasSubstr("<svg"));
    EXPECT_THAT(page, HasSubstr("1234.66"));
    EXPECT_EQ(page.find("http://"), page.find("http://www.w3.org/2000/svg"));  // no assets
    EXPECT_EQ(page.find("<script"), std::string::npos);

    auto gl = capture_command(ctl() + " report gl --date " + today);
    EXPECT_THAT(gl, HasSubstr("journal_date,account,debit,credit,currency,memo"));
    EXPECT_THAT(gl, HasSubstr(today + ",1150,1234.66,,USD,card payments via simulator (2)"));
    EXPECT_THAT(gl, HasSubstr(today + ",1200,,1234.66,USD,card payments via simulator (2)"));
    EXPECT_THAT(gl, HasSubstr(today + ",1200,4.56,,USD,card refunds via simulator (1)"));
    // Debits equal credits.
    std::int64_t debits = 0;
    std::int64_t credits = 0;
    std::istringstream lines(gl);
    std::string line;
    std::getline(lines, line);
    auto usd = *billpay::model::currency::parse("USD");
    while (std::getline(lines, line)) {
        std::vector<std::string> f;
        std::stringstream fields(line);
        for (std::string part; std::getline(fields, part, ',');) {
            f.push_back(part);
        }
        ASSERT_GE(f.size(), 4u) << line;
        debits += f[2].empty() ? 0 : *billpay::model::parse_decimal(f[2], usd);
        credits += f[3].empty() ? 0 : *billpay::model::parse_decimal(f[3], usd);
    }
    EXPECT_EQ(debits, credits);
    EXPECT_EQ(debits, 123466 + 456);
    EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE action IN ('report.exported',"
                    " 'report.gl_exported')"),
              4);
}

}  // namespace
