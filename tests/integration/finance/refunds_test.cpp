// Refunds follow the payments' rules when their answer is lost: only the processor's own word
// concludes "not refunded", silence is flagged for review, a refund made through another
// processor is never sent to this one, and a refund's own request is never raced. A refund is
// its Idempotency-Key's from the transaction that reserves it: a retry past the key's lease,
// or after the reserve's answer was lost, finds that refund and never reserves a second.
#include "finance/refunds.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <pqxx/pqxx>

#include "store/database.hpp"
#include "store/idempotency_keys.hpp"
#include "store/migrations.hpp"
#include "tests/mocks/scripted_gateway.hpp"
#include "tests/support/run_to_end.hpp"
#include "tests/support/test_database.hpp"

namespace {

using namespace billpay;
using namespace std::chrono_literals;
using gateway::outcome;

/// The real refund store, but for a reserve that commits and then loses its answer, one that
/// fails without writing, and a look at the key afterwards that fails too.
class faulty_refund_store final : public store::refund_store {
  public:
    using store::refund_store::refund_store;

    std::optional<store::error> reserve_fails;
    std::optional<store::error> reserve_answer_lost;
    std::optional<store::error> settle_fails;

    boost::asio::awaitable<store::result<store::reserve_result>> reserve(
        const store::refund_hold& hold, const store::audit_entry& audit) override {
        if (reserve_fails) {
            co_return *reserve_fails;
        }
        auto reserved = co_await store::refund_store::reserve(hold, audit);
        if (reserve_answer_lost) {
            co_return *reserve_answer_lost;
        }
        co_return reserved;
    }
    boost::asio::awaitable<store::result<store::lost_reserve>> settle_lost_reserve(
        const store::refund_hold& hold) override {
        if (settle_fails) {
            co_return *settle_fails;
        }
        co_return co_await store::refund_store::settle_lost_reserve(hold);
    }
};

/// The answer a key replays, as a test reads it back: the status and the refund's id.
class test_refund_answers final : public finance::refund_answer_renderer {
  public:
    [[nodiscard]] std::optional<model::stored_response> render(const model::refund_record& r,
                                                               const std::string&) const override {
        if (r.status == model::refund_status::succeeded) {
            return model::stored_response{201, r.id};
        }
        if (r.status == model::refund_status::failed && r.failure_code != "processor_unavailable") {
            return model::stored_response{409, r.id};
        }
        return std::nullopt;
    }
};

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
        return billpay::test::run_to_end(std::move(work));
    }

    finance::refund_answer refund_whole(const std::string& id,
                                        std::optional<model::key_lease> key = std::nullopt) {
        const finance::refund_order order{"pay_r1", std::nullopt, "billing error",
                                          id,       key,          "req_1"};
        const model::actor who{"finance", "127.0.0.1"};
        return run(refunds.create(order, who));
    }
    /// Finance's client claims `key` for a refund of pay_r1, as the API does.
    store::claim_result claim(const std::string& key) {
        const store::key_claim c{"finance",   key, "POST", "/v1/payments/pay_r1/refunds",
                                 "fp-" + key, 60s};
        return run(keys.claim(c)).value();
    }
    /// The same, on a connection of its own (from inside a scripted processor call).
    std::string claim_now(const std::string& key, const std::string& lease_id) {
        pqxx::connection conn(db.dsn());
        pqxx::nontransaction tx(conn);
        return tx
            .exec_params1(
                "SELECT status FROM billpay_claim_key('finance', $1, 'POST',"
                " '/v1/payments/pay_r1/refunds', $2, 60000, $3)",
                key, "fp-" + key, lease_id)[0]
            .as<std::string>();
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
    store::idempotency_keys keys{database};
    faulty_refund_store records{database};
    test::scripted_gateway processor;
    config::gateway_settings gateway_settings;
    test_refund_answers answers;
    finance::refunds refunds{records, processor, gateway_settings, &answers};
};

TEST_F(RefundRecovery, ARetryPastTheLeaseOfTheKeyFindsTheRefundAndNeverReservesASecond) {
    // The processor and the database are slow: the refund's request outlives its key's lease,
    // and finance's client retries with the key meanwhile.
    auto first = claim("rk-1");
    ASSERT_EQ(first.status, store::claim_status::claimed);
    std::string retry_claim;
    processor.on_refund = [&](const gateway::refund_request&) {
        exec("UPDATE idempotency_keys SET leased_until = now() - interval '1 second'");
        retry_claim = claim_now("rk-1", "lease_retry");
        return gateway::refund_result{outcome::approved, "re_1", "", ""};
    };
    auto answer = refund_whole("ref_k1", first.lease);
    ASSERT_EQ(answer.status, finance::refund_status::succeeded);
    EXPECT_EQ(retry_claim, "in_flight");  // the key holds a refund: it is never taken over
    EXPECT_EQ(processor.refunds, 1);
    EXPECT_EQ(one("SELECT count(*) FROM refunds"), "1");
    EXPECT_EQ(one("SELECT refund_id FROM idempotency_keys"), "ref_k1");
    // Its answer was written with the outcome: the retry now replays it.
    auto replay = claim("rk-1");
    EXPECT_EQ(replay.status, store::claim_status::replay);
    EXPECT_EQ(replay.response.status, 201);
    EXPECT_EQ(replay.response.body, "ref_k1");
}

TEST_F(RefundRecovery, ARequestThatDiedAfterHoldingItsRefundLeavesItsKeyToTheRetryWorker) {
    auto first = claim("rk-2");
    processor.on_refund = [](const gateway::refund_request&) {
        return gateway::refund_result{outcome::unknown, "", "", "no answer"};
    };
    ASSERT_EQ(refund_whole("ref_k2", first.lease).status, finance::refund_status::pending);
    // The request died before it recorded its 202; its lease runs out.
    exec("UPDATE idempotency_keys SET leased_until = now() - interval '1 second'");
    EXPECT_EQ(claim("rk-2").status, store::claim_status::in_flight);
    age("ref_k2");
    processor.on_refund = [](const gateway::refund_request&) {
        return gateway::refund_result{outcome::approved, "re_2", "", ""};
    };
    EXPECT_EQ(retry(), 1);
    auto replay = claim("rk-2");
    EXPECT_EQ(replay.status, store::claim_status::replay);
    EXPECT_EQ(replay.response.body, "ref_k2");
    EXPECT_EQ(processor.refunds, 2);  // the first try and the retry, under one refund id
    EXPECT_EQ(one("SELECT count(*) FROM refunds"), "1");
}

TEST_F(RefundRecovery, AHoldWhoseAnswerWasLostIsSentOnceAndNeverCalledNothing) {
    auto first = claim("rk-3");
    processor.on_refund = [](const gateway::refund_request&) {
        return gateway::refund_result{outcome::approved, "re_3", "", ""};
    };
    records.reserve_answer_lost = store::error::unavailable;
    auto answer = refund_whole("ref_k3", first.lease);
    ASSERT_EQ(answer.status, finance::refund_status::succeeded);
    EXPECT_EQ(processor.refunds, 1);
    EXPECT_EQ(one("SELECT count(*) FROM refunds"), "1");
    EXPECT_EQ(one("SELECT status FROM refunds"), "succeeded");
    EXPECT_EQ(claim("rk-3").status, store::claim_status::replay);
}

TEST_F(RefundRecovery, AHoldWhoseOutcomeCannotBeLearnedIsUnknownAndTheRetryFindsTheRefund) {
    auto first = claim("rk-4");
    processor.on_refund = [](const gateway::refund_request&) {
        return gateway::refund_result{outcome::approved, "re_4", "", ""};
    };
    records.reserve_answer_lost = store::error::unavailable;
    records.settle_fails = store::error::unavailable;
    EXPECT_EQ(refund_whole("ref_k4", first.lease).status, finance::refund_status::outcome_unknown);
    EXPECT_EQ(processor.refunds, 0);
    // The client retries with the key: it holds the refund, so no second one is reserved...
    exec("UPDATE idempotency_keys SET leased_until = now() - interval '1 second'");
    EXPECT_EQ(claim("rk-4").status, store::claim_status::in_flight);
    // ...and the retry worker sends the one there is, once.
    records.reserve_answer_lost.reset();
    records.settle_fails.reset();
    age("ref_k4");
    EXPECT_EQ(retry(), 1);
    EXPECT_EQ(processor.refunds, 1);
    EXPECT_EQ(one("SELECT count(*) FROM refunds"), "1");
    EXPECT_EQ(one("SELECT amount_refunded FROM payments"), "10000");
    EXPECT_EQ(claim("rk-4").status, store::claim_status::replay);
}

TEST_F(RefundRecovery, AHoldThatWroteNothingGivesItsKeyBackAndAHoldThatLostItsKeyWritesNothing) {
    auto first = claim("rk-5");
    records.reserve_fails = store::error::unavailable;
    EXPECT_EQ(refund_whole("ref_k5", first.lease).status, finance::refund_status::not_held);
    EXPECT_EQ(one("SELECT count(*) FROM idempotency_keys"), "0");  // a retry claims it afresh
    records.reserve_fails.reset();

    auto second = claim("rk-6");
    exec("UPDATE idempotency_keys SET lease_id = 'lease_someone_else'");
    EXPECT_EQ(refund_whole("ref_k6", second.lease).status, finance::refund_status::key_lost);
    EXPECT_EQ(one("SELECT count(*) FROM refunds"), "0");
    EXPECT_EQ(processor.refunds, 0);
}

TEST_F(RefundRecovery, AKeyWhoseRefundReachedNoProcessorIsGivenBackForARetry) {
    auto first = claim("rk-7");
    processor.on_refund = [](const gateway::refund_request&) {
        return gateway::refund_result{outcome::failed, "", "", "connection refused"};
    };
    EXPECT_EQ(refund_whole("ref_k7", first.lease).status,
              finance::refund_status::processor_unavailable);
    EXPECT_TRUE(run(keys.release(first.lease)).has_value());  // what the API then does
    processor.on_refund = [](const gateway::refund_request&) {
        return gateway::refund_result{outcome::approved, "re_7", "", ""};
    };
    auto retry_claim = claim("rk-7");
    ASSERT_EQ(retry_claim.status, store::claim_status::claimed);
    EXPECT_EQ(refund_whole("ref_k7b", retry_claim.lease).status, finance::refund_status::succeeded);
    EXPECT_EQ(one("SELECT count(*) FROM refunds WHERE status = 'succeeded'"), "1");
}

TEST_F(RefundRecovery, AKeyThatHoldsAPendingRefundIsNeverGivenBack) {
    auto first = claim("rk-8");
    processor.on_refund = [](const gateway::refund_request&) {
        return gateway::refund_result{outcome::unknown, "", "", "no answer"};
    };
    ASSERT_EQ(refund_whole("ref_k8", first.lease).status, finance::refund_status::pending);
    EXPECT_FALSE(run(keys.release(first.lease)).has_value());
    EXPECT_EQ(one("SELECT refund_id FROM idempotency_keys"), "ref_k8");
}

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
