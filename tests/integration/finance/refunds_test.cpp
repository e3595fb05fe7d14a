// Refunds follow the payments' rules when their answer is lost: only the processor's own word
// concludes "not refunded", silence is flagged for review, a refund made through another
// processor is never sent to this one, and a refund's own request is never raced.
#include "finance/refunds.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <pqxx/pqxx>

#include "store/database.hpp"
#include "store/migrations.hpp"
#include "tests/mocks/scripted_gateway.hpp"
#include "tests/support/test_database.hpp"

namespace {

using namespace billpay;
using namespace std::chrono_literals;
using gateway::outcome;

class RefundRecovery : public ::testing::Test {
  protected:
    void SetUp() override {
        pqxx::connection conn(db.dsn());
        store::migrate(conn);
        pqxx::work tx(conn);
        tx.exec(
            "INSERT INTO payments (id, client_id, account_number, amount, currency, status,"
            " confirmation, card_brand, card_last4, card_exp_month, card_exp_year,"
            " card_fingerprint, processor, processor_token, processor_reference, customer_name,"
            " customer_email) VALUES ('pay_r1', 'portal', '1001-2002', 10000, 'USD', 'succeeded',"
            " 'C1', 'visa', '4242', 12, 2031, 'f', 'scripted', 'tok', 'ch_1', 'Ada',"
            " 'ada@example.com')");
        tx.commit();
        gateway_settings.timeout = 500ms;
    }

    template <class T>
    T run(boost::asio::awaitable<T> work) {
        boost::asio::io_context ioc;
        auto done = boost::asio::co_spawn(ioc, std::move(work), boost::asio::use_future);
        ioc.run();
        return done.get();
    }

    finance::refund_answer refund_whole(const std::string& id) {
        const finance::refund_order order{"pay_r1", std::nullopt, "billing error", id};
        const finance::actor who{"finance", "127.0.0.1"};
        return run(refunds.create(order, who));
    }
    int retry() { return run(refunds.retry_pending(1ms, 1ms, 2)); }
    /// Its request's window (500 ms + its margin) has long passed.
    void age(const std::string& id) {
        exec(
            "UPDATE refunds SET created_at = now() - interval '1 hour', next_attempt_at = now()"
            " WHERE id = '" +
            id + "'");
    }

    std::string one(const std::string& sql) {
        pqxx::connection conn(db.dsn());
        pqxx::read_transaction tx(conn);
        auto r = tx.exec(sql);
        return r.empty() || r[0][0].is_null() ? "" : r[0][0].as<std::string>();
    }
    void exec(const std::string& sql) {
        pqxx::connection conn(db.dsn());
        pqxx::work tx(conn);
        tx.exec(sql);
        tx.commit();
    }

    test::test_database db;
    store::database database{store::database_options{billpay::config::secret(db.dsn()), 2, 2000ms}};
    store::refund_store records{database};
    test::scripted_gateway processor;
    config::gateway_settings gateway_settings;
    finance::refunds refunds{records, processor, gateway_settings};
};

TEST_F(RefundRecovery, ALostAnswerStaysPendingAndIsNotAskedAboutWhileItsRequestRuns) {
    processor.on_refund = [](const gateway::refund_request& r) {
        EXPECT_FALSE(r.retry);
        return gateway::refund_result{outcome::unknown, "", "", "no answer"};
    };
    EXPECT_EQ(refund_whole("ref_a").status, finance::refund_status::pending);
    EXPECT_EQ(retry(), 0);  // its window has not closed: nobody asks yet
    EXPECT_EQ(processor.refunds, 1);

    age("ref_a");
    processor.on_refund = [](const gateway::refund_request& r) {
        EXPECT_TRUE(r.retry);  // the adapter knows only the processor's record may say "no"
        return gateway::refund_result{outcome::approved, "re_1", "", ""};
    };
    EXPECT_EQ(retry(), 1);
    EXPECT_EQ(one("SELECT status FROM refunds"), "succeeded");
    EXPECT_EQ(one("SELECT status FROM payments"), "refunded");
}

TEST_F(RefundRecovery, ARetryThatReachesNobodyConcludesNothingAndEndsInReview) {
    processor.on_refund = [](const gateway::refund_request&) {
        return gateway::refund_result{outcome::unknown, "", "", "no answer"};
    };
    ASSERT_EQ(refund_whole("ref_b").status, finance::refund_status::pending);
    processor.on_refund = [](const gateway::refund_request&) {
        return gateway::refund_result{outcome::failed, "", "", "connection refused"};
    };
    for (int pass = 0; pass < 4; ++pass) {
        age("ref_b");
        retry();
    }
    EXPECT_EQ(one("SELECT status FROM refunds"), "pending");  // never "failed" from silence
    EXPECT_EQ(one("SELECT needs_review::text FROM refunds"), "true");
    EXPECT_EQ(one("SELECT amount_refunded FROM payments"), "0");
}

TEST_F(RefundRecovery, ARefundOfAnotherProcessorsPaymentIsFlaggedNeverSentHere) {
    processor.on_refund = [](const gateway::refund_request&) {
        return gateway::refund_result{outcome::unknown, "", "", "no answer"};
    };
    ASSERT_EQ(refund_whole("ref_c").status, finance::refund_status::pending);
    exec("UPDATE payments SET processor = 'stripe'");  // billpayd now talks to another one
    age("ref_c");
    EXPECT_EQ(retry(), 0);
    EXPECT_EQ(processor.refunds, 1);  // the first attempt only
    EXPECT_EQ(one("SELECT needs_review::text FROM refunds"), "true");
    EXPECT_EQ(one("SELECT status FROM refunds"), "pending");
}

}  // namespace
