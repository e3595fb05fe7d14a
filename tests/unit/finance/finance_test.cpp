#include <gmock/gmock.h>

#include "finance/reconcile.hpp"
#include "finance/reports.hpp"
#include "finance/settlement_files.hpp"

namespace {

using namespace billpay;
using ::testing::HasSubstr;

TEST(SettlementCsv, QuotesCommasLineBreaksAndByteOrderMarks) {
    std::vector<finance::file_problem> problems;
    auto records = finance::read_csv(
        "\xEF\xBB\xBF"
        "a,b,c\r\n\"1,234.56\",\"say \"\"hi\"\"\",\"two\nlines\"\r\nx,,z\n\n",
        problems);
    ASSERT_TRUE(problems.empty());
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records[1].fields,
              (std::vector<std::string>{"1,234.56", "say \"hi\"", "two\nlines"}));
    EXPECT_EQ(records[1].line, 2);
    EXPECT_EQ(records[2].line, 4);  // the quoted line break moved it down one
    EXPECT_EQ(records[2].fields, (std::vector<std::string>{"x", "", "z"}));

    finance::read_csv("a,\"open\n", problems);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_THAT(problems[0].message, HasSubstr("not closed"));
}

const std::string stripe_header =
    "balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,source_id,"
    "payment_intent_id,automatic_payout_id,automatic_payout_effective_at_utc\n";

TEST(StripeReport, AmountsAreExactMinorUnitsAndCategoriesBecomeKinds) {
    auto parsed = finance::parse_stripe_itemized(
        stripe_header +
        "txn_1,2026-11-02 17:32:10,usd,0.10,0.30,-0.20,charge,ch_1,pi_1,po_1,2026-11-04 00:00:00\n"
        "txn_2,2026-11-02 17:32:11,usd,\"1,234.56\",36.10,\"1,198.46\",charge,ch_2,pi_2,po_1,\n"
        "txn_3,2026-11-03 09:00:00,usd,-10.00,0.00,-10.00,refund,re_3,pi_1,po_1,\n"
        "txn_4,2026-11-03 09:00:00,usd,-0.05,0.00,-0.05,fee,,,po_1,\n");
    ASSERT_TRUE(parsed.problems.empty()) << parsed.problems[0].message;
    ASSERT_EQ(parsed.lines.size(), 4u);
    EXPECT_EQ(parsed.lines[0].gross, 10);
    EXPECT_EQ(parsed.lines[0].fee, 30);
    EXPECT_EQ(parsed.lines[0].net, -20);
    EXPECT_EQ(parsed.lines[0].settled_at, "2026-11-04T00:00:00Z");  // the payout's day
    EXPECT_EQ(parsed.lines[0].currency, "USD");
    EXPECT_EQ(parsed.lines[1].gross, 123456);
    EXPECT_EQ(parsed.lines[1].settled_at, "2026-11-02T17:32:11Z");  // no payout yet: booked
    EXPECT_EQ(parsed.lines[2].kind, "refund");
    EXPECT_EQ(parsed.lines[2].gross, -1000);
    EXPECT_EQ(parsed.lines[2].reference, "pi_1");
    EXPECT_EQ(parsed.lines[2].refund_reference, "re_3");
    EXPECT_EQ(parsed.lines[3].kind, "fee");
}

TEST(StripeReport, EveryBadLineIsNamedAndNothingIsTaken) {
    auto parsed = finance::parse_stripe_itemized(
        stripe_header +
        "txn_1,2026-11-02 17:32:10,usd,10.00,0.59,9.41,charge,ch_1,pi_1,po_1,\n"
        "txn_2,2026-11-02 17:32:10,usd,10.001,0.59,9.411,charge,ch_2,pi_2,po_1,\n"
        "txn_3,2026-11-02 17:32:10,usd,10.00,0.59,9.00,charge,ch_3,pi_3,po_1,\n"
        "txn_1,2026-11-02 17:32:10,usd,10.00,0.59,9.41,charge,ch_1,pi_1,po_1,\n"
        "txn_5,yesterday,usd,10.00,0.59,9.41,charge,ch_5,pi_5,po_1,\n"
        "txn_6,2026-11-02 17:32:10,usd,10.00,0.59,9.41,charge,ch_6,,po_1,\n"
        "txn_7,2026-11-02 17:32:10,usd,10.00\n"
        "nottxn,2026-11-02 17:32:10,usd,10.00,0.59,9.41,charge,ch_8,pi_8,po_1,\n");
    std::vector<int> lines;
    for (const auto& p : parsed.problems) {
        lines.push_back(p.line);
    }
    EXPECT_EQ(lines, (std::vector<int>{3, 3, 4, 5, 6, 7, 8, 9}));
    EXPECT_THAT(parsed.problems[0].message, HasSubstr("gross \"10.001\" is not an amount in USD"));
    EXPECT_THAT(parsed.problems[2].message,
                HasSubstr("net 9.00 is not gross 10.00 minus fee 0.59"));
}

TEST(GenericReport, NeedsItsExactHeader) {
    auto parsed = finance::parse_generic("id,amount\n1,2\n");
    ASSERT_EQ(parsed.problems.size(), 1u);
    EXPECT_EQ(parsed.problems[0].line, 1);
    auto empty = finance::parse_generic(
        "line_id,settled_at,kind,reference,refund_reference,currency,gross,fee,net,payout_id\n");
    ASSERT_EQ(empty.problems.size(), 1u);
    EXPECT_THAT(empty.problems[0].message, HasSubstr("no lines"));
}

store::settlement_line line(std::string id, std::string kind, std::string reference,
                            std::int64_t gross, std::string refund_reference = "") {
    return {std::move(id),
            "2026-11-20T12:00:00Z",
            std::move(kind),
            std::move(reference),
            std::move(refund_reference),
            "USD",
            gross,
            0,
            gross,
            "po_1",
            0,
            "2026-11-20"};
}

TEST(Reconcile, ClassifiesEveryDifference) {
    finance::reconcile_input in;
    in.from = "2026-11-20";
    in.to = "2026-11-20";
    in.today = "2026-11-26";
    in.settlement_days = 3;
    in.payments = {
        {"pay_a", "stripe", "pi_a", "USD", 1000, 0, "2026-11-20T10:00:00.000Z", "2026-11-20"},
        {"pay_b", "stripe", "pi_b", "USD", 2000, 0, "2026-11-20T10:00:00.000Z", "2026-11-20"},
        {"pay_c", "stripe", "pi_c", "USD", 3000, 0, "2026-11-20T10:00:00.000Z", "2026-11-20"},
        {"pay_v", "stripe", "pi_v", "USD", 4000, 4000, "2026-11-20T10:00:00.000Z", "2026-11-20"}};
    in.refunds = {{"ref_1", "pay_a", "stripe", "re_1", "pi_a", "USD", 300, "refund",
                   "2026-11-20T11:00:00.000Z", "2026-11-20"},
                  {"ref_2", "pay_b", "stripe", "re_2", "pi_b", "USD", 100, "refund",
                   "2026-11-20T11:00:00.000Z", "2026-11-20"}};
    in.lines = {
        line("t1", "charge", "pi_a", 1000),         line("t2", "charge", "pi_b", 1999),
        line("t3", "charge", "pi_zz", 500),         line("t4", "charge", "pi_a", 1000),
        line("t5", "refund", "pi_a", -300, "re_1"), line("t6", "refund", "pi_a", -50, "re_x")};
    auto run = finance::reconcile(in, "rec_1", "test");
    std::map<std::string, int> classes;
    for (const auto& i : run.items) {
        ++classes[i.item_class];
    }
    EXPECT_EQ(classes["matched"], 1);
    EXPECT_EQ(classes["amount_mismatch"], 1);
    EXPECT_EQ(classes["unknown_to_billpayd"], 1);
    EXPECT_EQ(classes["duplicate"], 1);
    EXPECT_EQ(classes["refund_matched"], 1);
    EXPECT_EQ(classes["refund_unknown_to_billpayd"], 1);
    EXPECT_EQ(classes["not_settled"], 1);         // pay_c, six days on
    EXPECT_EQ(classes["refund_not_settled"], 1);  // ref_2
    EXPECT_EQ(classes["voided"], 1);              // pay_v: nothing was due
    EXPECT_EQ(run.matched, 2);
    EXPECT_EQ(run.exceptions, 6);

    // Two days on, the unsettled ones are only awaited.
    in.today = "2026-11-22";
    auto early = finance::reconcile(in, "rec_2", "test");
    int awaited = 0;
    for (const auto& i : early.items) {
        awaited +=
            i.item_class == "awaiting_settlement" || i.item_class == "refund_awaiting_settlement";
    }
    EXPECT_EQ(awaited, 2);
    EXPECT_EQ(early.exceptions, 4);
}

TEST(Reports, CsvFieldsAreQuotedAndNeverFormulas) {
    finance::daily_report r{"2026-11-20", "2026-11-20", "UTC", {}, {}};
    r.days.push_back({"2026-11-20", "stripe", "USD", 3, 123466, 1, 456, 30, 1, 1});
    store::reconciliation_item item;
    item.item_class = "unknown_to_billpayd";
    item.is_exception = true;
    item.reference = "=HYPERLINK(\"http://x\")";
    item.day = "2026-11-20";
    item.currency = "USD";
    item.actual = -10;
    item.message = "settled, \"but\" unknown";
    r.exceptions.push_back(item);
    auto csv = finance::report_csv(r);
    // The day's payments by origin close the row: one each from the portal, a schedule, AutoPay.
    EXPECT_THAT(csv, HasSubstr("2026-11-20,stripe,USD,3,1234.66,1,4.56,0.30,1229.80,1,1,1\r\n"));
    EXPECT_THAT(csv, HasSubstr("\"'=HYPERLINK(\"\"http://x\"\")\""));
    EXPECT_THAT(csv, HasSubstr(",-0.10,USD,\"settled, \"\"but\"\" unknown\"\r\n"));

    // What slips past a guard that looks only at = + @ and a "-" not followed by a digit.
    for (const std::string formula :
         {"\t=1+1", "\r=1+1", "-1+cmd|' /C calc'!A0", "-2.5+1", "@SUM(1)"}) {
        auto row = r;
        row.exceptions.front().reference = formula;
        auto text = finance::report_csv(row);
        const auto at = text.find(formula.substr(1));
        ASSERT_NE(at, std::string::npos) << formula;
        // The cell starts with ' (inside its quotes when it needs them), never with the formula.
        const auto cell = text.rfind(',', at) + 1;
        const auto first = text[cell] == '"' ? cell + 1 : cell;
        EXPECT_EQ(text[first], '\'') << formula;
    }
    auto negative = r;
    negative.exceptions.front().reference = "-12.34";
    EXPECT_THAT(finance::report_csv(negative), HasSubstr(",-12.34,"));  // an amount stays one

    auto html = finance::report_html(r);
    EXPECT_THAT(html, HasSubstr("=HYPERLINK(&quot;http://x&quot;)"));
    EXPECT_EQ(html.find("<script"), std::string::npos);
}

TEST(Reports, TheGeneralLedgerBalancesAndUsesTheConfiguredAccounts) {
    config::finance_settings::gl_accounts accounts{"CLR", "AR", "FEE"};
    std::vector<store::daily_total> day = {{"2026-11-20", "stripe", "USD", 2, 10000, 1, 2500, 320}};
    auto gl = finance::general_ledger_csv("2026-11-20", day, accounts);
    EXPECT_EQ(gl,
              "journal_date,account,debit,credit,currency,memo\r\n"
              "2026-11-20,CLR,100.00,,USD,card payments via stripe (2)\r\n"
              "2026-11-20,AR,,100.00,USD,card payments via stripe (2)\r\n"
              "2026-11-20,AR,25.00,,USD,card refunds via stripe (1)\r\n"
              "2026-11-20,CLR,,25.00,USD,card refunds via stripe (1)\r\n"
              "2026-11-20,FEE,3.20,,USD,processing fees settled by stripe\r\n"
              "2026-11-20,CLR,,3.20,USD,processing fees settled by stripe\r\n");
}

TEST(Reconcile, DaysBetweenCountsCalendarDays) {
    EXPECT_EQ(finance::days_between("2026-02-27", "2026-03-01"), 2);
    EXPECT_EQ(finance::days_between("2026-12-31T23:00:00Z", "2027-01-01"), 1);
    EXPECT_EQ(finance::days_between("2026-02-30", "2026-03-01"), std::nullopt);
    EXPECT_EQ(finance::days_between("soon", "2026-03-01"), std::nullopt);
}

}  // namespace
