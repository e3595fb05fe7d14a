#include "store/migrations.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <pqxx/pqxx>
#include <span>
#include <thread>

#include "tests/support/test_database.hpp"

namespace {

using namespace billpay;

int count_rows(pqxx::connection& conn, const std::string& sql) {
    pqxx::read_transaction tx(conn);
    return tx.exec(sql)[0][0].as<int>();
}

TEST(Migrations, ApplyingTwiceIsANoOp) {
    test::test_database db;
    pqxx::connection conn(db.dsn());
    EXPECT_EQ(store::current_schema_version(conn), 0);

    auto first = store::migrate(conn);
    EXPECT_EQ(first.from_version, 0);
    EXPECT_EQ(first.to_version, store::required_schema_version());
    EXPECT_EQ(first.applied.size(), store::built_in_migrations().size());

    auto second = store::migrate(conn);
    EXPECT_TRUE(second.applied.empty());
    EXPECT_EQ(second.from_version, store::required_schema_version());
    EXPECT_EQ(count_rows(conn, "SELECT count(*) FROM schema_migrations"),
              static_cast<int>(store::built_in_migrations().size()));
    EXPECT_EQ(store::current_schema_version(conn), store::required_schema_version());
}

TEST(Migrations, OnlyNewerMigrationsAreAppliedInOrder) {
    test::test_database db;
    pqxx::connection conn(db.dsn());
    const store::migration v1[] = {{1, "one", "CREATE TABLE t1 (x int)"}};
    const store::migration v3[] = {{1, "one", "CREATE TABLE t1 (x int)"},
                                   {2, "two", "ALTER TABLE t1 ADD COLUMN y int"},
                                   {3, "three", "INSERT INTO t1 VALUES (1, 2)"}};
    EXPECT_EQ(store::migrate(conn, v1).applied, std::vector<int>{1});
    auto report = store::migrate(conn, v3);
    EXPECT_EQ(report.from_version, 1);
    EXPECT_EQ(report.applied, (std::vector<int>{2, 3}));
    EXPECT_EQ(count_rows(conn, "SELECT y FROM t1"), 2);
}

TEST(Migrations, AFailingMigrationLeavesNoTraceAndStopsTheRun) {
    test::test_database db;
    pqxx::connection conn(db.dsn());
    const store::migration set[] = {{1, "good", "CREATE TABLE t1 (x int)"},
                                    {2, "bad", "CREATE TABLE t2 (x int); SELECT no_such_column"},
                                    {3, "after", "CREATE TABLE t3 (x int)"}};
    EXPECT_THROW(store::migrate(conn, set), pqxx::sql_error);
    EXPECT_EQ(store::current_schema_version(conn), 1);
    EXPECT_EQ(count_rows(conn, "SELECT count(*) FROM pg_tables WHERE tablename IN ('t2', 't3')"),
              0);
}

TEST(Migrations, AnAppliedMigrationWhoseTextChangedIsRefused) {
    test::test_database db;
    pqxx::connection conn(db.dsn());
    const store::migration before[] = {{1, "one", "CREATE TABLE t1 (x int)"}};
    const store::migration edited[] = {{1, "one", "CREATE TABLE t1 (x bigint)"}};
    store::migrate(conn, before);
    EXPECT_THROW(store::migrate(conn, edited), store::migration_error);
}

TEST(Migrations, TwoProcessesMigratingAtOnceApplyEachMigrationOnce) {
    test::test_database db;
    const store::migration set[] = {{1, "slow", "SELECT pg_sleep(0.3); CREATE TABLE t1 (x int)"},
                                    {2, "two", "CREATE TABLE t2 (x int)"}};
    std::vector<int> applied_a, applied_b;
    std::thread a([&] {
        pqxx::connection conn(db.dsn());
        applied_a = store::migrate(conn, set).applied;
    });
    std::thread b([&] {
        pqxx::connection conn(db.dsn());
        applied_b = store::migrate(conn, set).applied;
    });
    a.join();
    b.join();
    EXPECT_EQ(applied_a.size() + applied_b.size(), 2u);
    pqxx::connection conn(db.dsn());
    EXPECT_EQ(count_rows(conn, "SELECT count(*) FROM schema_migrations"), 2);
}

TEST(Migrations, FingerprintsThatHashedTheCvcAreWithdrawnAndTheirKeysStillReplay) {
    // Migration 11: a fingerprint kept before it may derive from a card's CVC (PCI DSS 3.3.1.2).
    test::test_database db;
    pqxx::connection conn(db.dsn());
    auto all = store::built_in_migrations();
    auto before = std::find_if(all.begin(), all.end(), [](auto& m) { return m.version == 11; });
    ASSERT_NE(before, all.end());
    store::migrate(conn, std::span(all.begin(), before));
    {
        pqxx::work tx(conn);
        tx.exec(
            "INSERT INTO idempotency_keys (client_id, key, request_method, request_path,"
            "  request_fingerprint, state, response_status, response_body, finished_at)"
            " VALUES ('portal', 'k-card', 'POST', '/v1/payments', 'v1-with-cvc', 'finished', 201,"
            "         '{\"id\":\"pay_1\"}', now()),"
            "        ('portal', 'k-saved', 'POST', '/v1/payment_methods', 'v1-with-cvc-2',"
            "         'finished', 201, '{\"id\":\"pm_1\"}', now()),"
            "        ('finance', 'k-refund', 'POST', '/v1/payments/pay_1/refunds', 'refund-fp',"
            "         'finished', 201, '{\"id\":\"re_1\"}', now())");
        tx.commit();
    }
    store::migrate(conn);
    EXPECT_EQ(count_rows(conn,
                         "SELECT count(*) FROM idempotency_keys"
                         " WHERE request_fingerprint LIKE 'v1-with-cvc%'"),
              0);
    EXPECT_EQ(count_rows(conn,
                         "SELECT count(*) FROM idempotency_keys"
                         " WHERE request_fingerprint = 'refund-fp'"),
              1);  // a refund's request never held a card

    // The customer's retry (fingerprinted without the CVC now) replays the answer it was given.
    pqxx::nontransaction tx(conn);
    auto row = tx.exec1(
        "SELECT status, response_status, response_body FROM billpay_claim_key("
        " 'portal', 'k-card', 'POST', '/v1/payments', 'v2-fingerprint', 30000, 'lease_x')");
    EXPECT_EQ(row[0].as<std::string>(), "replay");
    EXPECT_EQ(row[1].as<int>(), 201);
    EXPECT_EQ(row[2].as<std::string>(), "{\"id\":\"pay_1\"}");
    // A refund key's fingerprint still tells a different request from a retry.
    EXPECT_EQ(tx.exec1("SELECT status FROM billpay_claim_key('finance', 'k-refund', 'POST',"
                       " '/v1/payments/pay_1/refunds', 'other', 30000, 'lease_y')")[0]
                  .as<std::string>(),
              "mismatch");
}

}  // namespace
