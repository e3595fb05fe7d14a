// "Only needed data is kept", at the processor: a purge deletes the customer records billpayd
// made that no token in use names, keeps every record a token in use names (one recorded just
// after the processor's list included), leaves another system's alone, and deletes nothing it
// cannot judge.
#include "privacy/processor_profiles.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <pqxx/pqxx>

#include "store/database.hpp"
#include "store/migrations.hpp"
#include "tests/mocks/scripted_gateway.hpp"
#include "tests/support/run_to_end.hpp"
#include "tests/support/test_database.hpp"

namespace {

using namespace billpay;
using namespace std::chrono_literals;
using gateway::outcome;

class PurgeProcessorProfiles : public ::testing::Test {
  protected:
    void SetUp() override {
        pqxx::connection conn(db.dsn());
        store::migrate(conn);
        processor.customer_of_token = {{"cust_live|pp_1", "cust_live"},
                                       {"cust_late|pp_1", "cust_late"}};
        processor.on_list_customers = [this] {
            // A payment that made its token just before the list records it just after.
            pending_payment("pay_late", "cust_late|pp_1");
            return gateway::customer_list{
                outcome::approved,
                {"cust_live", "cust_late", "cust_stale", "cust_other", "cust_unsure"},
                ""};
        };
        processor.on_forget_customer = [](const std::string& id) {
            if (id == "cust_other") {
                return gateway::delete_result{outcome::declined, "not made by this merchant"};
            }
            if (id == "cust_unsure") {
                return gateway::delete_result{outcome::unknown, "timed out"};
            }
            return gateway::delete_result{outcome::approved, ""};
        };
        pending_payment("pay_live", "cust_live|pp_1");
    }

    void pending_payment(const std::string& id, const std::string& token) {
        pqxx::connection conn(db.dsn());
        pqxx::work tx(conn);
        tx.exec_params(
            "INSERT INTO payments (id, client_id, account_number, amount, currency, status,"
            " confirmation, card_brand, card_last4, card_exp_month, card_exp_year,"
            " card_fingerprint, processor, processor_token, customer_name, customer_email)"
            " VALUES ($1, 'portal', '1001-2002', 10000, 'USD', 'pending', $1, 'visa', '4242', 12,"
            " 2031, 'f', 'scripted', $2, 'Ada', 'ada@example.com')",
            id, token);
        tx.commit();
    }

    privacy::purge_report purge(bool dry_run) {
        const privacy::purge_options options{dry_run, 50ms, 500ms};
        return billpay::test::run_to_end(
            privacy::purge_processor_profiles(processor, records, options, by));
    }

    std::string audit_rows() {
        pqxx::connection conn(db.dsn());
        pqxx::read_transaction tx(conn);
        std::string rows;
        for (const auto& r : tx.exec("SELECT actor, action, records, details FROM audit_log")) {
            rows += r[0].as<std::string>() + " " + r[1].as<std::string>() + " " +
                    r[2].as<std::string>() + " " + r[3].as<std::string>() + "\n";
        }
        return rows;
    }

    billpay::test::test_database db;
    store::database database{store::database_options{config::secret(db.dsn()), 2, 2000ms}};
    store::privacy_records records{database};
    billpay::test::scripted_gateway processor;
    const model::actor by{"billpayctl:ops", "host:billpay1"};
};

TEST_F(PurgeProcessorProfiles, DeletesOnlyWhatNoTokenInUseNamesAndRecordsTheRun) {
    auto report = purge(false);
    EXPECT_FALSE(report.not_listed);
    EXPECT_FALSE(report.in_use_unknown);
    EXPECT_FALSE(report.audit_failure);
    EXPECT_EQ(report.listed, 5U);
    EXPECT_EQ(report.in_use, 2);  // cust_live, and cust_late whose token came after the list
    EXPECT_EQ(report.deleted, std::vector<std::string>{"cust_stale"});
    EXPECT_EQ(report.foreign, 1);
    ASSERT_EQ(report.failed.size(), 1U);
    EXPECT_EQ(report.failed[0].first, "cust_unsure");
    EXPECT_EQ(processor.forgotten_customers,
              (std::vector<std::string>{"cust_stale", "cust_other", "cust_unsure"}));
    EXPECT_EQ(audit_rows(),
              "billpayctl:ops processor.profiles_purged scripted "
              "{\"deleted\":1,\"in_use\":2,\"failed\":1}\n");
}

TEST_F(PurgeProcessorProfiles, ADryRunDeletesNothingAndRecordsNothing) {
    auto report = purge(true);
    EXPECT_EQ(report.deleted,
              (std::vector<std::string>{"cust_stale", "cust_other", "cust_unsure"}));
    EXPECT_TRUE(processor.forgotten_customers.empty());
    EXPECT_EQ(audit_rows(), "");
}

TEST_F(PurgeProcessorProfiles, WithoutTheProcessorsListNothingIsDeleted) {
    processor.on_list_customers = [] {
        return gateway::customer_list{outcome::unknown, {}, "processor unavailable"};
    };
    auto report = purge(false);
    ASSERT_TRUE(report.not_listed);
    EXPECT_EQ(*report.not_listed, "processor unavailable");
    EXPECT_TRUE(processor.forgotten_customers.empty());
    EXPECT_EQ(audit_rows(), "");
}

}  // namespace
