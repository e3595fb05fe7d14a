// The privacy policy promises that only staff directly involved see customers' payment
// information, and every look is on record: finance::staff_reads shows a staff reader nothing it
// could not record first, and the customer's own portal reads are its own (not recorded, and
// never another account's).
#include "finance/staff_reads.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <pqxx/pqxx>

#include "store/database.hpp"
#include "store/migrations.hpp"
#include "tests/support/run_to_end.hpp"
#include "tests/support/test_database.hpp"

namespace {

using namespace billpay;
using namespace std::chrono_literals;

/// The real audit trail, but one whose appends can be made to fail (a full disk, a lost
/// connection) while every other read works.
class failing_audit final : public store::audit_log {
  public:
    explicit failing_audit(store::database& db) : real_(db) {}

    bool fail_appends = false;

    boost::asio::awaitable<store::result<void>> append(const store::audit_entry& entry) override {
        if (fail_appends) {
            co_return store::error::unavailable;
        }
        co_return co_await real_.append(entry);
    }
    boost::asio::awaitable<store::result<store::audit_check>> verify() override {
        return real_.verify();
    }
    boost::asio::awaitable<store::result<std::vector<store::audit_row>>> list(
        const std::string& record, int limit) override {
        return real_.list(record, limit);
    }
    boost::asio::awaitable<store::result<std::vector<store::audit_checkpoint>>> days_to_checkpoint()
        override {
        return real_.days_to_checkpoint();
    }
    boost::asio::awaitable<store::result<void>> add_checkpoints(
        std::vector<store::audit_checkpoint> signed_days) override {
        return real_.add_checkpoints(std::move(signed_days));
    }
    boost::asio::awaitable<store::result<std::vector<store::audit_checkpoint>>> checkpoints()
        override {
        return real_.checkpoints();
    }
    boost::asio::awaitable<store::result<store::checkpoint_state>> state_at(
        std::int64_t last_id) override {
        return real_.state_at(last_id);
    }

  private:
    store::audit_trail real_;
};

class StaffReads : public ::testing::Test {
  protected:
    void SetUp() override {
        pqxx::connection conn(db.dsn());
        store::migrate(conn);
        pqxx::work tx(conn);
        tx.exec(
            "INSERT INTO payments (id, client_id, account_number, amount, currency, status,"
            " confirmation, card_brand, card_last4, card_exp_month, card_exp_year,"
            " card_fingerprint, processor, processor_token, processor_reference, customer_name,"
            " customer_email) VALUES ('pay_s1', 'portal', '1001-2002', 10000, 'USD', 'succeeded',"
            " 'C1', 'visa', '4242', 12, 2031, 'f', 'simulator', 'tok', 'ch_1', 'Ada',"
            " 'ada@example.com')");
        tx.commit();
    }

    template <class T>
    T run(boost::asio::awaitable<T> work) {
        return billpay::test::run_to_end(std::move(work));
    }

    std::string audit_rows() {
        pqxx::connection conn(db.dsn());
        pqxx::read_transaction tx(conn);
        std::string rows;
        for (const auto& r :
             tx.exec("SELECT actor, source, action, records, details FROM audit_log ORDER BY id")) {
            rows += r[0].as<std::string>() + " " + r[1].as<std::string>() + " " +
                    r[2].as<std::string>() + " " + r[3].as<std::string>() + " " +
                    r[4].as<std::string>() + "\n";
        }
        return rows;
    }

    const finance::reader finance_client{{"finance-desk", "10.0.0.7"}, true, std::nullopt};
    const finance::reader portal_for_ada{{"portal", "10.0.0.9"}, false, "1001-2002"};
    const finance::reader portal_for_other{{"portal", "10.0.0.9"}, false, "7777-8888"};

    billpay::test::test_database db;
    store::database database{store::database_options{config::secret(db.dsn()), 2, 2000ms}};
    store::postgres_payment_store payments{database};
    store::refund_store refunds{database};
    store::settlement_records settlements{database};
    failing_audit audit{database};
    finance::staff_reads reads{payments, refunds, settlements, audit};
};

TEST_F(StaffReads, AStaffReadIsOnRecordWithWhoWhatAndWhereFrom) {
    auto found = run(reads.payment(finance_client, "pay_s1"));
    ASSERT_TRUE(found);
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ((*found)->amount.minor_units, 10000);
    EXPECT_EQ(audit_rows(),
              "finance-desk 10.0.0.7 payments.read pay_s1 {\"account_number\":\"1001-2002\"}\n");

    store::payment_filter filter;
    filter.account_number = "1001-2002";
    auto page = run(reads.payments(finance_client, filter,
                                   boost::json::object{{"account_number", "1001-2002"}}));
    ASSERT_TRUE(page);
    ASSERT_EQ(page->payments.size(), 1U);
    EXPECT_NE(audit_rows().find("finance-desk 10.0.0.7 payments.listed pay_s1 "
                                "{\"account_number\":\"1001-2002\"}"),
              std::string::npos)
        << audit_rows();
}

TEST_F(StaffReads, AStaffReaderSeesNothingThatCouldNotBeRecorded) {
    audit.fail_appends = true;
    auto found = run(reads.payment(finance_client, "pay_s1"));
    ASSERT_FALSE(found);
    EXPECT_EQ(found.error(), store::error::unavailable);
    auto page = run(reads.payments(finance_client, store::payment_filter{}, {}));
    ASSERT_FALSE(page);
    EXPECT_EQ(page.error(), store::error::unavailable);
    auto methods = run(reads.payment_methods(finance_client, "1001-2002"));
    ASSERT_FALSE(methods);
    auto listed = run(reads.refunds(finance_client, "pay_s1"));
    ASSERT_FALSE(listed);
    EXPECT_EQ(listed.error(), store::error::unavailable);
    auto report = run(reads.daily(finance_client, "2026-11-01", "2026-11-07", "UTC"));
    ASSERT_FALSE(report);
    EXPECT_EQ(report.error(), store::error::unavailable);
    EXPECT_EQ(audit_rows(), "");

    // The customer's own read does not depend on the audit trail.
    auto own = run(reads.payment(portal_for_ada, "pay_s1"));
    ASSERT_TRUE(own);
    EXPECT_TRUE(own->has_value());
}

TEST_F(StaffReads, TheCustomersOwnReadsAreNotRecordedAndAnotherAccountsPaymentIsAbsent) {
    auto own = run(reads.payment(portal_for_ada, "pay_s1"));
    ASSERT_TRUE(own);
    EXPECT_TRUE(own->has_value());
    auto other = run(reads.payment(portal_for_other, "pay_s1"));
    ASSERT_TRUE(other);
    EXPECT_FALSE(other->has_value());
    auto page = run(reads.payments(portal_for_other, store::payment_filter{}, {}));
    ASSERT_TRUE(page);
    EXPECT_TRUE(page->payments.empty());
    EXPECT_EQ(audit_rows(), "");
}

TEST_F(StaffReads, WhatIsNotThereIsNotRecordedAsSeen) {
    auto missing = run(reads.payment(finance_client, "pay_missing"));
    ASSERT_TRUE(missing);
    EXPECT_FALSE(missing->has_value());
    auto refunds_of_missing = run(reads.refunds(finance_client, "pay_missing"));
    ASSERT_TRUE(refunds_of_missing);
    EXPECT_FALSE(refunds_of_missing->first.has_value());
    auto run_missing = run(reads.reconciliation(finance_client, "rec_missing"));
    ASSERT_TRUE(run_missing);
    EXPECT_FALSE(run_missing->has_value());
    EXPECT_EQ(audit_rows(), "");
}

TEST_F(StaffReads, AnExportedReportNamesItsFormatAndWhereItWent) {
    auto report = run(reads.daily(finance_client, "2026-11-01", "2026-11-07", "UTC", "csv",
                                  "/srv/finance/week.csv"));
    ASSERT_TRUE(report);
    auto gl = run(reads.general_ledger(finance_client, "2026-11-02", "UTC", ""));
    ASSERT_TRUE(gl);
    EXPECT_EQ(audit_rows(),
              "finance-desk 10.0.0.7 report.exported daily {\"from\":\"2026-11-01\",\"to\":"
              "\"2026-11-07\",\"format\":\"csv\",\"output\":\"/srv/finance/week.csv\"}\n"
              "finance-desk 10.0.0.7 report.gl_exported gl:2026-11-02 {\"date\":\"2026-11-02\","
              "\"output\":\"-\"}\n");
}

}  // namespace
