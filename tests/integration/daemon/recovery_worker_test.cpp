// The recovery worker against real PostgreSQL and a scripted processor: what each lookup answer
// does to a pending payment, its idempotency key and its outbox.
#include "daemon/recovery_worker.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <pqxx/pqxx>

#include "payments/ids.hpp"
#include "store/idempotency_keys.hpp"
#include "store/migrations.hpp"
#include "tests/mocks/scripted_gateway.hpp"
#include "tests/support/test_database.hpp"

namespace {

using namespace billpay;
using namespace std::chrono_literals;

class RecoveryWorker : public ::testing::Test {
  protected:
    void SetUp() override {
        {
            pqxx::connection conn(db.dsn());
            store::migrate(conn);
            store::key_claim claim{"portal", "k1", "POST", "/v1/payments", "fp"};
            store::claim_key(conn, claim);
            payment.id = payments::new_id("pay");
            payment.client_id = "portal";
            payment.account_number = "1001-2002";
            payment.amount = {12500, payments::currency::parse("USD").value()};
            payment.confirmation = payments::new_confirmation_code();
            payment.card = {"visa", "4242", 12, 2031, "f"};
            payment.processor = "scripted";
            payment.processor_token = "tok";
            payment.customer_name = "Ada";
            payment.customer_email = "ada@example.com";
            store::insert_payment(conn, payment, "k1");
            // Pending for an hour: due for recovery.
            pqxx::work tx(conn);
            tx.exec("UPDATE payments SET created_at = now() - interval '1 hour'");
            tx.commit();
        }
        settings.payments.recovery.after = 1000ms;
        settings.payments.recovery.interval = 1ms;
        settings.payments.recovery.max_attempts = 2;
        settings.gateway.timeout = 1000ms;
    }

    int recover() {
        store::database database({db.dsn(), 1, 2000ms});
        daemon::recovery_worker worker(settings, database, processor);
        boost::asio::io_context ioc;
        auto done = boost::asio::co_spawn(ioc, worker.recover_due(), boost::asio::use_future);
        ioc.run();
        return done.get();
    }

    std::string one(const std::string& sql) {
        pqxx::connection conn(db.dsn());
        pqxx::read_transaction tx(conn);
        auto r = tx.exec(sql);
        return r.empty() || r[0][0].is_null() ? "" : r[0][0].as<std::string>();
    }

    test::test_database db;
    config::settings settings;
    test::scripted_gateway processor;
    store::payment_record payment;
};

TEST_F(RecoveryWorker, AChargeTheProcessorHoldsSucceedsWithItsReceiptAndReplay) {
    processor.on_lookup = [&](const gateway::charge_request& r) {
        EXPECT_EQ(r.idempotency_key, payment.id);  // asked by our key
        return gateway::lookup_result{true, {gateway::outcome::approved, "ch_42", "", ""}};
    };
    EXPECT_EQ(recover(), 1);
    EXPECT_EQ(processor.charges, 0);  // never charged again
    EXPECT_EQ(one("SELECT status FROM payments"), "succeeded");
    EXPECT_EQ(one("SELECT processor_reference FROM payments"), "ch_42");
    EXPECT_EQ(one("SELECT type FROM outbox_messages"), "payment_receipt");
    EXPECT_EQ(one("SELECT response_status FROM idempotency_keys"), "201");
}

TEST_F(RecoveryWorker, AChargeTheProcessorNeverReceivedFailsSafely) {
    processor.on_lookup = [](const gateway::charge_request&) {
        return gateway::lookup_result{false, {}};
    };
    EXPECT_EQ(recover(), 1);
    EXPECT_EQ(one("SELECT status FROM payments"), "failed");
    EXPECT_EQ(one("SELECT type FROM outbox_messages"), "payment_declined");
    EXPECT_EQ(one("SELECT response_status FROM idempotency_keys"), "402");
}

TEST_F(RecoveryWorker, ADeclineFoundLaterIsRecordedAsADecline) {
    processor.on_lookup = [](const gateway::charge_request&) {
        return gateway::lookup_result{true,
                                      {gateway::outcome::declined, "ch_1", "stolen_card", ""}};
    };
    recover();
    EXPECT_EQ(one("SELECT status FROM payments"), "declined");
    EXPECT_EQ(one("SELECT decline_code FROM payments"), "stolen_card");
}

TEST_F(RecoveryWorker, AnOutcomeStillUnknownAfterTheLastAttemptIsFlaggedAndStaysPending) {
    processor.on_lookup = [](const gateway::charge_request&) {
        return gateway::lookup_result{true, {gateway::outcome::unknown, "", "", "timeout"}};
    };
    EXPECT_EQ(recover(), 0);
    EXPECT_EQ(one("SELECT needs_review FROM payments"), "f");
    recover();  // the second attempt reaches max_attempts
    EXPECT_EQ(one("SELECT needs_review FROM payments"), "t");
    EXPECT_EQ(one("SELECT status FROM payments"), "pending");
    EXPECT_EQ(one("SELECT count(*) FROM outbox_messages"), "0");
    recover();  // flagged payments are left to finance
    EXPECT_EQ(processor.lookups, 2);
}

}  // namespace
