// The payment use case without HTTP: payments::payment_service and payments::recovery_worker
// against real PostgreSQL (through a store that a test can make fail at one step) and a
// scripted processor. Every path of one payment, and recovery's rules.
#include "payments/payment_service.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>
#include <pqxx/pqxx>

#include "model/ids.hpp"
#include "payments/outcomes.hpp"
#include "payments/recovery_worker.hpp"
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
using payments::pay_status;

/// The real store, except where a test makes one of its calls fail as an outage would.
class faulty_store final : public store::payment_store {
  public:
    explicit faulty_store(store::payment_store& real) : real_(real) {}

    std::optional<store::error> open_fails;
    /// OPEN is written (committed), and then its answer is lost on the way back.
    std::optional<store::error> open_answer_lost;
    /// The look at the key after a lost OPEN fails too.
    std::optional<store::error> settle_fails;
    std::optional<store::error> finish_fails;

    boost::asio::awaitable<store::result<store::open_result>> open(
        const store::open_request& r) override {
        if (open_fails) {
            co_return *open_fails;
        }
        auto opened = co_await real_.open(r);
        if (open_answer_lost) {
            co_return *open_answer_lost;
        }
        co_return opened;
    }
    boost::asio::awaitable<store::result<store::lost_open>> settle_lost_open(
        const store::open_request& r) override {
        if (settle_fails) {
            co_return *settle_fails;
        }
        co_return co_await real_.settle_lost_open(r);
    }
    boost::asio::awaitable<store::result<model::payment_record>> finish(
        const store::finish_request& r) override {
        if (finish_fails) {
            co_return *finish_fails;
        }
        co_return co_await real_.finish(r);
    }
    boost::asio::awaitable<store::result<std::optional<model::payment_record>>> find_payment(
        const std::string& id) override {
        co_return co_await real_.find_payment(id);
    }
    boost::asio::awaitable<store::result<store::payment_page>> list_payments(
        const store::payment_filter& f) override {
        co_return co_await real_.list_payments(f);
    }
    boost::asio::awaitable<store::result<std::optional<model::payment_method_record>>>
    find_payment_method(const std::string& id) override {
        co_return co_await real_.find_payment_method(id);
    }
    boost::asio::awaitable<store::result<std::vector<model::payment_method_record>>>
    list_payment_methods(const std::string& account) override {
        co_return co_await real_.list_payment_methods(account);
    }
    boost::asio::awaitable<store::result<store::saved_method>> save_payment_method(
        const model::payment_method_record& m) override {
        co_return co_await real_.save_payment_method(m);
    }
    boost::asio::awaitable<store::result<bool>> delete_payment_method(
        const std::string& id, const store::autopay_ended_notice& ended_notice) override {
        co_return co_await real_.delete_payment_method(id, ended_notice);
    }
    boost::asio::awaitable<store::result<std::vector<model::payment_record>>> claim_for_recovery(
        const store::recovery_claim& c) override {
        co_return co_await real_.claim_for_recovery(c);
    }
    boost::asio::awaitable<store::result<void>> flag_for_review(const std::string& id) override {
        co_return co_await real_.flag_for_review(id);
    }
    boost::asio::awaitable<store::result<void>> defer_recovery(
        const std::string& id, std::chrono::milliseconds after) override {
        co_return co_await real_.defer_recovery(id, after);
    }

  private:
    store::payment_store& real_;
};

/// The stored answer, as a test can read it back: the status code, and the payment's id and
/// status in the body.
class test_answers final : public payments::answer_renderer {
  public:
    [[nodiscard]] model::stored_response render(const model::payment_record& p,
                                                const std::string& request_id) const override {
        int code = p.status == model::payment_status::pending     ? 202
                   : p.status == model::payment_status::succeeded ? 201
                                                                  : 402;
        return {code, "{\"id\":\"" + p.id + "\",\"status\":\"" +
                          std::string(model::to_string(p.status)) + "\",\"request\":\"" +
                          request_id + "\"}"};
    }
};

class PaymentService : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { ASSERT_TRUE(tokenizer::init_secure_memory(1 << 16)); }

    void SetUp() override {
        {
            pqxx::connection conn(db.dsn());
            store::migrate(conn);
        }
        settings.gateway.timeout = 500ms;
        settings.payments.recovery.after = 1000ms;
        settings.payments.recovery.interval = 1ms;
        settings.payments.recovery.max_attempts = 2;
    }

    template <class T>
    T run(boost::asio::awaitable<T> work) {
        return billpay::test::run_to_end(std::move(work));
    }

    model::key_lease claim(const std::string& key) {
        const store::key_claim c{"portal", key, "POST", "/v1/payments", "fp-" + key, 60s};
        auto claimed = run(keys.claim(c)).value();
        EXPECT_EQ(claimed.status, store::claim_status::claimed);
        return claimed.lease;
    }

    /// A payment request with Stripe's Visa test card (last four 4242).
    payments::pay_request card_payment(const std::string& key, const std::string& bill = "b1") {
        payments::pay_request r;
        r.request_id = model::new_id("req");
        r.key = claim(key);
        r.account_number = "1001-2002";
        r.bill_id = bill;
        r.amount = 12500;
        r.currency = "USD";
        r.card.emplace();
        r.card->set_number("4242424242424242");
        r.card->set_expiry(12, 2031);
        r.card->set_cvc("123");
        r.payer = {"Ada Lovelace", "ada@example.com"};
        return r;
    }

    payments::pay_result pay(payments::pay_request& r) { return run(service.pay(r)); }

    int recover() { return run(recovery.recover_due()); }

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
    config::settings settings;
    store::database database{store::database_options{billpay::config::secret(db.dsn()), 2, 2000ms}};
    store::idempotency_keys keys{database};
    store::postgres_payment_store real_store{database};
    faulty_store payments_store{real_store};
    test::scripted_gateway processor;
    tokenizer::fingerprinter fingerprints{std::string(32, 'k')};
    test_answers answers;
    payments::payment_service service{settings, payments_store, processor, fingerprints, answers};
    payments::recovery_worker recovery{settings, payments_store, processor, fingerprints, answers};
    int claims_ = 0;
};

TEST_F(PaymentService, TheUtilitysRulesAreTheUseCasesOwnAndNameTheFieldTheyRefuse) {
    // A realistic request within the rules passes, metadata keys the config names included.
    auto r = card_payment("rules");
    r.metadata = {{"bill_period", "2026-11"}, {"channel", "web"}};
    EXPECT_FALSE(service.check(r).has_value());
    r.amount = settings.payments.max_amount;
    EXPECT_FALSE(service.check(r).has_value());

    auto refused = [&](auto change) {
        auto copy = card_payment("rules-" + std::to_string(++claims_));
        change(copy);
        auto why = service.check(copy);
        return why ? why->param + " " + why->code : std::string("accepted");
    };
    EXPECT_EQ(refused([](auto& q) { q.currency = "EUR"; }), "currency currency_not_supported");
    EXPECT_EQ(refused([](auto& q) { q.currency = "US"; }), "currency currency_not_supported");
    EXPECT_EQ(refused([&](auto& q) { q.amount = settings.payments.min_amount - 1; }),
              "amount amount_too_small");
    EXPECT_EQ(refused([&](auto& q) { q.amount = settings.payments.max_amount + 1; }),
              "amount amount_too_large");
    EXPECT_EQ(refused([](auto& q) {
                  q.metadata = {{"notes", "call after 5"}};
              }),
              "metadata metadata_key_not_allowed");
    // The refusal names the allowed keys, never the key or value sent.
    auto copy = card_payment("rules-message");
    copy.metadata = {{"notes", "call after 5"}};
    EXPECT_EQ(service.check(copy)->message.find("notes"), std::string::npos);
    EXPECT_NE(service.check(copy)->message.find("invoice_number"), std::string::npos);
}

TEST_F(PaymentService, AnApprovedChargeSucceedsWithItsAnswerAndReceiptWrittenTogether) {
    std::string charged_key;
    processor.on_charge = [&](const gateway::charge_request& r) {
        charged_key = r.idempotency_key;
        return gateway::charge_result{outcome::approved, "ch_1", "", ""};
    };
    auto request = card_payment("k1");
    auto result = pay(request);
    ASSERT_EQ(result.status, pay_status::succeeded);
    EXPECT_EQ(result.payment->processor_reference, "ch_1");
    EXPECT_EQ(charged_key, result.payment->id);   // charged under the payment's own id
    EXPECT_EQ(processor.last4_seen, "4242");      // the card was readable when tokenized...
    EXPECT_TRUE(request.card->number().empty());  // ...and wiped right after
    EXPECT_EQ(one("SELECT status FROM payments"), "succeeded");
    EXPECT_EQ(one("SELECT card_last4 FROM payments"), "4242");
    EXPECT_EQ(one("SELECT response_status FROM idempotency_keys"), "201");
    EXPECT_EQ(one("SELECT type FROM outbox_messages"), "payment_receipt");
}

TEST_F(PaymentService, ADeclineIsRecordedWithItsCode) {
    processor.on_charge = [](const gateway::charge_request&) {
        return gateway::charge_result{outcome::declined, "ch_2", "insufficient_funds", ""};
    };
    auto request = card_payment("k1");
    auto result = pay(request);
    ASSERT_EQ(result.status, pay_status::declined);
    EXPECT_EQ(one("SELECT decline_code FROM payments"), "insufficient_funds");
    EXPECT_EQ(one("SELECT response_status FROM idempotency_keys"), "402");
    EXPECT_EQ(one("SELECT type FROM outbox_messages"), "payment_declined");
}

TEST_F(PaymentService, AProcessorsFailureFailsThePaymentAndKeepsItsCode) {
    processor.on_charge = [](const gateway::charge_request&) {
        return gateway::charge_result{outcome::failed, "", "processing_error", "try again"};
    };
    auto request = card_payment("k1");
    EXPECT_EQ(pay(request).status, pay_status::failed);
    EXPECT_EQ(one("SELECT decline_code FROM payments"), "processing_error");
}

TEST_F(PaymentService, AnUnknownOutcomeStaysPendingWithA202AnswerAndItsNotice) {
    processor.on_charge = [](const gateway::charge_request&) {
        return gateway::charge_result{outcome::unknown, "", "", "no answer"};
    };
    auto request = card_payment("k1");
    auto result = pay(request);
    ASSERT_EQ(result.status, pay_status::pending);
    EXPECT_EQ(one("SELECT status FROM payments"), "pending");
    EXPECT_EQ(one("SELECT response_status FROM idempotency_keys"), "202");
    EXPECT_EQ(one("SELECT type FROM outbox_messages"), "payment_pending");
}

TEST_F(PaymentService, ACardRefusedAtTokenizingMakesNoPaymentAndNoCharge) {
    processor.on_tokenize = [] {
        return gateway::tokenize_result{outcome::declined, "", "incorrect_number", ""};
    };
    auto request = card_payment("k1");
    auto result = pay(request);
    EXPECT_EQ(result.status, pay_status::refused);
    EXPECT_EQ(result.why, payments::failure::card_declined);
    EXPECT_EQ(result.decline_code, "incorrect_number");
    EXPECT_TRUE(request.card->number().empty());  // wiped whatever the answer
    EXPECT_EQ(processor.charges, 0);
    EXPECT_EQ(one("SELECT count(*) FROM payments"), "0");
}

TEST_F(PaymentService, AProcessorThatCannotBeReachedChargesNothing) {
    processor.on_tokenize = [] {
        return gateway::tokenize_result{outcome::failed, "", "", "connection refused"};
    };
    auto request = card_payment("k1");
    auto result = pay(request);
    EXPECT_EQ(result.status, pay_status::refused);
    EXPECT_EQ(result.why, payments::failure::processor_unavailable);
    EXPECT_EQ(processor.charges, 0);
    EXPECT_EQ(one("SELECT count(*) FROM payments"), "0");
}

TEST_F(PaymentService, TheStoreDownBeforeTheIntentChargesNothingAndTheKeyCanBeGivenBack) {
    processor.on_charge = [](const gateway::charge_request&) {
        return gateway::charge_result{outcome::approved, "ch_1", "", ""};
    };
    payments_store.open_fails = store::error::unavailable;
    auto request = card_payment("k1");
    // Not written, as the key says afterwards: the key is given back in the same statement.
    EXPECT_EQ(pay(request).status, pay_status::open_not_written);
    EXPECT_EQ(processor.charges, 0);
    EXPECT_EQ(one("SELECT count(*) FROM payments"), "0");
    EXPECT_EQ(one("SELECT count(*) FROM idempotency_keys"), "0");
    auto retry = card_payment("k1");  // claims the key afresh
    payments_store.open_fails.reset();
    EXPECT_EQ(pay(retry).status, pay_status::succeeded);
    EXPECT_EQ(processor.charges, 1);
    exec("DELETE FROM outbox_messages; DELETE FROM idempotency_keys; DELETE FROM payments");

    payments_store.open_fails = store::error::busy;
    auto again = card_payment("k1");
    auto never_ran = pay(again);
    EXPECT_EQ(never_ran.status, pay_status::refused);
    EXPECT_EQ(never_ran.why, payments::failure::store_busy);  // it never ran
    EXPECT_EQ(processor.charges, 1);                          // only the retry's above
    EXPECT_EQ(one("SELECT count(*) FROM payments"), "0");
}

TEST_F(PaymentService, AnOpenWrittenButWhoseAnswerWasLostIsChargedOnceAndNeverCalledNothing) {
    // OPEN committed; its answer did not come back (the connection broke after the commit, or
    // the synchronous standby's confirmation was cut short). Saying "nothing was charged"
    // would be wrong: recovery would charge the pending payment later.
    processor.on_charge = [](const gateway::charge_request&) {
        return gateway::charge_result{outcome::approved, "ch_1", "", ""};
    };
    payments_store.open_answer_lost = store::error::unavailable;
    auto request = card_payment("k1");
    auto result = pay(request);
    ASSERT_EQ(result.status, pay_status::succeeded);
    EXPECT_EQ(processor.charges, 1);
    EXPECT_EQ(one("SELECT count(*) FROM payments"), "1");
    EXPECT_EQ(one("SELECT status FROM payments"), "succeeded");
    EXPECT_EQ(one("SELECT response_status FROM idempotency_keys"), "201");
    EXPECT_EQ(one("SELECT payment_id FROM idempotency_keys"), result.payment->id);
    EXPECT_EQ(one("SELECT type FROM outbox_messages"), "payment_receipt");
}

TEST_F(PaymentService, AnOpenWhoseOutcomeCannotBeLearnedIsUnknownAndTheRetryFindsThePayment) {
    processor.on_charge = [](const gateway::charge_request&) {
        return gateway::charge_result{outcome::approved, "ch_1", "", ""};
    };
    processor.on_lookup = processor.on_charge;
    payments_store.open_answer_lost = store::error::unavailable;
    payments_store.settle_fails = store::error::unavailable;
    auto request = card_payment("k1");
    EXPECT_EQ(pay(request).status, pay_status::outcome_unknown);
    EXPECT_EQ(processor.charges, 0);
    EXPECT_TRUE(processor.discarded.empty());  // the token may still be charged: kept
    // The key is left as it is: the client's retry finds the payment's key in flight...
    const store::key_claim retry{"portal", "k1", "POST", "/v1/payments", "fp-k1", 60s};
    EXPECT_EQ(run(keys.claim(retry)).value().status, store::claim_status::in_flight);
    // ...and recovery, once the request's lease is over, charges it once.
    payments_store.open_answer_lost.reset();
    payments_store.settle_fails.reset();
    exec("UPDATE idempotency_keys SET leased_until = now() - interval '1 second'");
    exec("UPDATE payments SET created_at = now() - interval '1 hour', next_recovery_at = NULL");
    EXPECT_EQ(recover(), 1);
    EXPECT_EQ(one("SELECT status FROM payments"), "succeeded");
    auto replay = run(keys.claim(retry)).value();
    EXPECT_EQ(replay.status, store::claim_status::replay);  // the retry's answer: that payment
    EXPECT_EQ(replay.response.status, 201);
    EXPECT_EQ(one("SELECT count(*) FROM payments"), "1");
}

TEST_F(PaymentService, AnOpenThatLostItsKeyAndItsAnswerChargesNothingAndLeavesTheKeyAlone) {
    payments_store.open_fails = store::error::unavailable;
    auto request = card_payment("k1");
    exec("UPDATE idempotency_keys SET lease_id = 'lease_someone_else'");
    EXPECT_EQ(pay(request).status, pay_status::key_lost);
    EXPECT_EQ(processor.charges, 0);
    EXPECT_EQ(one("SELECT lease_id FROM idempotency_keys"), "lease_someone_else");
}

TEST_F(PaymentService, TheStoreDownAfterTheChargeLeavesItPendingAndRecoveryFinishesIt) {
    processor.on_charge = [](const gateway::charge_request&) {
        return gateway::charge_result{outcome::approved, "ch_1", "", ""};
    };
    payments_store.finish_fails = store::error::unavailable;
    auto request = card_payment("k1");
    auto result = pay(request);
    ASSERT_EQ(result.status, pay_status::pending);  // charged, but not written: 202
    EXPECT_EQ(one("SELECT status FROM payments"), "pending");
    EXPECT_EQ(one("SELECT state FROM idempotency_keys"), "in_flight");

    payments_store.finish_fails.reset();
    processor.on_lookup = [](const gateway::charge_request&) {
        return gateway::charge_result{outcome::approved, "ch_1", "", ""};
    };
    EXPECT_EQ(recover(), 0);  // the request still holds its key: recovery waits
    exec("UPDATE idempotency_keys SET leased_until = now() - interval '1 second'");
    exec("UPDATE payments SET created_at = now() - interval '1 hour', next_recovery_at = NULL");
    EXPECT_EQ(recover(), 1);
    EXPECT_EQ(processor.charges, 1);  // looked up, never charged again
    EXPECT_EQ(one("SELECT status FROM payments"), "succeeded");
    EXPECT_EQ(one("SELECT response_status FROM idempotency_keys"), "201");
    EXPECT_EQ(one("SELECT type FROM outbox_messages"), "payment_receipt");
}

TEST_F(PaymentService, ARequestThatLostItsKeyChargesNothing) {
    auto request = card_payment("k1");
    // A retry took the key over while this request was tokenizing.
    exec("UPDATE idempotency_keys SET lease_id = 'lease_someone_else'");
    EXPECT_EQ(pay(request).status, pay_status::key_lost);
    EXPECT_EQ(processor.charges, 0);
    EXPECT_EQ(one("SELECT count(*) FROM payments"), "0");
}

TEST_F(PaymentService, TheBillGuardStopsASecondPaymentUnlessConfirmed) {
    processor.on_charge = [](const gateway::charge_request&) {
        return gateway::charge_result{outcome::approved, "ch_1", "", ""};
    };
    auto first = card_payment("k1");
    ASSERT_EQ(pay(first).status, pay_status::succeeded);
    auto second = card_payment("k2");
    auto refused = pay(second);
    EXPECT_EQ(refused.status, pay_status::possible_duplicate);
    EXPECT_EQ(refused.existing_payment, one("SELECT id FROM payments"));
    auto confirmed = card_payment("k3");
    confirmed.confirm_duplicate = true;
    EXPECT_EQ(pay(confirmed).status, pay_status::succeeded);
    EXPECT_EQ(processor.charges, 2);
}

TEST_F(PaymentService, ASavedCardMustBeTheAccountsAndTheProcessors) {
    exec(
        "INSERT INTO payment_methods (id, client_id, account_number, processor, processor_token,"
        " card_brand, card_last4, card_exp_month, card_exp_year, card_fingerprint) VALUES"
        " ('pm_mine', 'portal', '1001-2002', 'scripted', 'tok_saved', 'visa', '4242', 12, 2031,"
        "  'f1'),"
        " ('pm_other', 'portal', '9999-0000', 'scripted', 'tok_x', 'visa', '4242', 12, 2031,"
        "  'f2'),"
        " ('pm_stripe', 'portal', '1001-2002', 'stripe', 'pm_123', 'visa', '1111', 12, 2031,"
        "  'f3')");
    auto with_method = [&](const std::string& key, const std::string& pm) {
        auto r = card_payment(key, "bill-" + key);
        r.card.reset();
        r.payment_method = pm;
        return r;
    };
    auto other = with_method("k1", "pm_other");
    EXPECT_EQ(pay(other).status, pay_status::no_such_payment_method);
    auto stripe = with_method("k2", "pm_stripe");
    EXPECT_EQ(pay(stripe).status, pay_status::payment_method_unusable);
    EXPECT_EQ(processor.charges, 0);

    std::string token;
    processor.on_charge = [&](const gateway::charge_request& r) {
        token = r.token;
        return gateway::charge_result{outcome::approved, "ch_1", "", ""};
    };
    auto mine = with_method("k3", "pm_mine");
    EXPECT_EQ(pay(mine).status, pay_status::succeeded);
    EXPECT_EQ(token, "tok_saved");
    EXPECT_EQ(processor.tokenizes, 0);
}

TEST_F(PaymentService, EveryProcessorOutcomeMapsOneWay) {
    struct row {
        outcome answer;
        std::string code;
        model::payment_status status;
        std::optional<std::string> decline_code;
    };
    const row table[] = {
        {outcome::approved, "", model::payment_status::succeeded, std::nullopt},
        {outcome::declined, "stolen_card", model::payment_status::declined, "stolen_card"},
        {outcome::declined, "", model::payment_status::declined, "generic_decline"},
        {outcome::failed, "card_velocity", model::payment_status::failed, "card_velocity"},
        {outcome::failed, "", model::payment_status::failed, "processing_error"},
        {outcome::unknown, "", model::payment_status::pending, std::nullopt},
    };
    for (const auto& r : table) {
        auto mapped = payments::outcome_of({r.answer, "ref", r.code, "m"});
        EXPECT_EQ(mapped.status, r.status) << gateway::to_string(r.answer);
        EXPECT_EQ(mapped.decline_code, r.decline_code) << gateway::to_string(r.answer);
        // An unknown answer settles nothing, not even a reference.
        EXPECT_EQ(mapped.processor_reference.has_value(), r.answer != outcome::unknown);
    }
}

// Recovery: what each lookup answer does to a pending payment, its key and its outbox.
class Recovery : public PaymentService {
  protected:
    void SetUp() override {
        PaymentService::SetUp();
        processor.on_charge = [](const gateway::charge_request&) {
            return gateway::charge_result{outcome::unknown, "", "", "no answer"};
        };
        auto request = card_payment("k1");
        ASSERT_EQ(pay(request).status, pay_status::pending);
        id = one("SELECT id FROM payments");
        // Its request answered 202; its charge window is long closed.
        exec("UPDATE payments SET created_at = now() - interval '1 hour', next_recovery_at = NULL");
    }
    std::string id;
};

TEST_F(Recovery, AChargeTheProcessorHoldsSucceedsWithItsReceipt) {
    processor.on_lookup = [&](const gateway::charge_request& r) {
        EXPECT_EQ(r.idempotency_key, id);  // asked by our key, with the charge's own request
        return gateway::charge_result{outcome::approved, "ch_42", "", ""};
    };
    EXPECT_EQ(recover(), 1);
    EXPECT_EQ(processor.charges, 1);  // the first attempt only: recovery never charges
    EXPECT_EQ(one("SELECT status FROM payments"), "succeeded");
    EXPECT_EQ(one("SELECT processor_reference FROM payments"), "ch_42");
    EXPECT_EQ(one("SELECT string_agg(type, ',' ORDER BY type) FROM outbox_messages"),
              "payment_pending,payment_receipt");
    EXPECT_EQ(one("SELECT response_status FROM idempotency_keys"), "202");  // the first answer
}

TEST_F(Recovery, OnlyTheProcessorsDefinitiveWordFailsAPayment) {
    processor.on_lookup = [](const gateway::charge_request&) {
        return gateway::charge_result{outcome::failed, "", "", "no charge under this key"};
    };
    EXPECT_EQ(recover(), 1);
    EXPECT_EQ(one("SELECT status FROM payments"), "failed");
    EXPECT_EQ(one("SELECT type FROM outbox_messages WHERE type <> 'payment_pending'"),
              "payment_declined");
}

TEST_F(Recovery, ADeclineFoundLaterIsRecordedAsADecline) {
    processor.on_lookup = [](const gateway::charge_request&) {
        return gateway::charge_result{outcome::declined, "ch_1", "stolen_card", ""};
    };
    recover();
    EXPECT_EQ(one("SELECT status FROM payments"), "declined");
    EXPECT_EQ(one("SELECT decline_code FROM payments"), "stolen_card");
}

TEST_F(Recovery, SilenceIsNeverAFailureItIsFlaggedForReviewAndStaysPending) {
    processor.on_lookup = [](const gateway::charge_request&) {
        return gateway::charge_result{outcome::unknown, "", "", "connection refused"};
    };
    EXPECT_EQ(recover(), 0);
    EXPECT_EQ(one("SELECT needs_review FROM payments"), "f");
    EXPECT_EQ(one("SELECT recovery_attempts FROM payments"), "1");
    recover();  // the second attempt reaches max_attempts
    EXPECT_EQ(one("SELECT needs_review FROM payments"), "t");
    EXPECT_EQ(one("SELECT status FROM payments"), "pending");
    recover();  // flagged payments are left to finance
    EXPECT_EQ(processor.lookups, 2);
    EXPECT_EQ(one("SELECT count(*) FROM outbox_messages WHERE type <> 'payment_pending'"), "0");
}

TEST_F(Recovery, APaymentOfAnotherProcessorIsFlaggedAndNeverAskedOfThisOne) {
    exec("UPDATE payments SET processor = 'authorizenet'");
    EXPECT_EQ(recover(), 0);
    EXPECT_EQ(processor.lookups, 0);
    EXPECT_EQ(one("SELECT needs_review FROM payments"), "t");
    EXPECT_EQ(one("SELECT status FROM payments"), "pending");
}

TEST_F(Recovery, NothingIsAskedBeforeTheChargesWindowHasClosed) {
    // The config says 1 s; the gateway timeout (500 ms) plus its margin (1 s) is longer.
    exec("UPDATE payments SET created_at = now() - interval '1200 milliseconds'");
    processor.on_lookup = [](const gateway::charge_request&) {
        return gateway::charge_result{outcome::failed, "", "", "not listed yet"};
    };
    EXPECT_EQ(recover(), 0);
    EXPECT_EQ(processor.lookups, 0);
    EXPECT_EQ(one("SELECT status FROM payments"), "pending");
}

}  // namespace
