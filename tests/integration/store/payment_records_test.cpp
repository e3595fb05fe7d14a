// The payment's two writes against real PostgreSQL: OPEN (guard, pending payment, its key) and
// FINISH (outcome, the key's answer, the message), the lease that fences out a request that
// lost its key, and recovery's claims.
#include "store/payment_records.hpp"

#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <thread>

#include "model/ids.hpp"
#include "model/time.hpp"
#include "store/idempotency_keys.hpp"
#include "store/migrations.hpp"
#include "store/payment_store.hpp"
#include "tests/support/test_database.hpp"

namespace {

using namespace billpay;
using namespace std::chrono_literals;

class PaymentRecords : public ::testing::Test {
  protected:
    void SetUp() override { store::migrate(conn); }

    model::key_lease claim(const std::string& key, std::chrono::milliseconds lease = 60s) {
        store::key_claim c{"portal", key, "POST", "/v1/payments", "fp-" + key, lease};
        auto claimed = store::claim_key(conn, c);
        EXPECT_EQ(claimed.status, store::claim_status::claimed);
        return claimed.lease;
    }

    model::payment_record new_payment(const std::string& bill = "2026-11") {
        model::payment_record p;
        p.id = model::new_id("pay");
        p.client_id = "portal";
        p.account_number = "1001-2002";
        p.bill_id = bill;
        p.amount = {12500, model::currency::parse("USD").value()};
        p.confirmation = model::new_confirmation_code();
        p.card = {"visa", "4242", 12, 2031, "f"};
        p.processor = "simulator";
        p.processor_token = "tok";
        p.customer_name = "Ada";
        p.customer_email = "ada@example.com";
        p.created_at = model::rfc3339_utc(std::chrono::system_clock::now());
        return p;
    }

    store::open_result open(const model::payment_record& p, const model::key_lease& lease,
                            bool guard = true) {
        store::open_request request{p, lease, std::nullopt, 60s};
        if (guard) {
            request.guard = store::bill_guard{*p.bill_id, 1440};
        }
        return store::open_payment(conn, request);
    }

    std::string one(const std::string& sql) {
        pqxx::read_transaction tx(conn);
        auto r = tx.exec(sql);
        return r.empty() || r[0][0].is_null() ? "" : r[0][0].as<std::string>();
    }

    static model::payment_outcome outcome(model::payment_status status,
                                          std::optional<std::string> reference = {}) {
        model::payment_outcome o;
        o.status = status;
        o.processor_reference = std::move(reference);
        o.updated_at = model::rfc3339_utc(std::chrono::system_clock::now());
        return o;
    }

    test::test_database db;
    pqxx::connection conn{db.dsn()};
};

TEST_F(PaymentRecords, OpenThenFinishStoresTheStatusTheKeysAnswerAndTheMessageTogether) {
    auto lease = claim("k1");
    auto p = new_payment();
    auto opened = open(p, lease);
    ASSERT_EQ(opened.status, store::open_status::opened);
    EXPECT_EQ(opened.payment.created_at, p.created_at);  // the use case's clock, read back alike
    auto done = store::finish_payment(conn, p, outcome(model::payment_status::succeeded, "ch_1"),
                                      {201, "{\"id\":\"" + p.id + "\"}"},
                                      model::outbox_entry{"rcpt_1", "payment_receipt", "{}"});
    EXPECT_EQ(done.status, model::payment_status::succeeded);
    EXPECT_EQ(done.processor_reference, "ch_1");
    // What FINISH returns without reading it back is what the database now holds.
    auto stored = store::find_payment(conn, p.id).value();
    EXPECT_EQ(stored.status, done.status);
    EXPECT_EQ(stored.processor_reference, done.processor_reference);
    EXPECT_EQ(stored.updated_at, done.updated_at);
    EXPECT_EQ(stored.created_at, done.created_at);
    EXPECT_EQ(stored.amount.minor_units, done.amount.minor_units);
    EXPECT_EQ(stored.decline_code, done.decline_code);
    EXPECT_EQ(stored.payment_method_id, done.payment_method_id);
    EXPECT_EQ(one("SELECT type FROM outbox_messages"), "payment_receipt");
    store::key_claim again{"portal", "k1", "POST", "/v1/payments", "fp-k1"};
    auto replay = store::claim_key(conn, again);
    EXPECT_EQ(replay.status, store::claim_status::replay);
    EXPECT_EQ(replay.response.status, 201);
    EXPECT_EQ(replay.response.body, "{\"id\":\"" + p.id + "\"}");
}

TEST_F(PaymentRecords, ARequestWhoseLeaseWasTakenOverCanWriteNothing) {
    auto first = claim("k1", 1ms);
    std::this_thread::sleep_for(20ms);
    // The lease ran out with no payment attached: a retry takes the key over.
    auto second = claim("k1");
    EXPECT_NE(first.lease_id, second.lease_id);

    auto late = new_payment();
    EXPECT_EQ(open(late, first, false).status, store::open_status::lease_lost);
    EXPECT_EQ(one("SELECT count(*) FROM payments"), "0");  // rolled back: nothing to charge
    EXPECT_FALSE(store::record_key_answer(conn, first, {402, "{}"}));
    EXPECT_FALSE(store::release_key(conn, first));

    auto p = new_payment();
    EXPECT_EQ(open(p, second, false).status, store::open_status::opened);
    EXPECT_EQ(one("SELECT payment_id FROM idempotency_keys"), p.id);
}

TEST_F(PaymentRecords, AKeyWithItsPaymentAttachedIsNeverTakenOver) {
    auto lease = claim("k1", 1ms);
    ASSERT_EQ(open(new_payment(), lease, false).status, store::open_status::opened);
    // OPEN renewed the lease; and a key with a payment is its payment's, whatever its age.
    pqxx::work tx(conn);
    tx.exec("UPDATE idempotency_keys SET leased_until = now() - interval '1 hour'");
    tx.commit();
    store::key_claim retry{"portal", "k1", "POST", "/v1/payments", "fp-k1"};
    EXPECT_EQ(store::claim_key(conn, retry).status, store::claim_status::in_flight);
}

TEST_F(PaymentRecords, TheBillGuardRefusesASecondPaymentButNotOneConfirmed) {
    ASSERT_EQ(open(new_payment(), claim("k1")).status, store::open_status::opened);
    auto second = open(new_payment(), claim("k2"));
    EXPECT_EQ(second.status, store::open_status::possible_duplicate);
    EXPECT_TRUE(second.existing_payment.has_value());
    EXPECT_EQ(open(new_payment(), claim("k3"), false).status, store::open_status::opened);
    EXPECT_EQ(open(new_payment("2026-12"), claim("k4")).status, store::open_status::opened);
}

TEST_F(PaymentRecords, APendingAnswerIsWrittenOnceAndTheReceiptFollowsTheOutcome) {
    auto lease = claim("k1");
    auto p = new_payment();
    ASSERT_EQ(open(p, lease).status, store::open_status::opened);
    auto pending =
        store::finish_payment(conn, p, outcome(model::payment_status::pending), {202, "{}"},
                              model::outbox_entry{"rcpt_p", "payment_pending", "{}"});
    EXPECT_EQ(pending.status, model::payment_status::pending);
    EXPECT_EQ(one("SELECT response_status FROM idempotency_keys"), "202");
    // Recovery finishes it: the key keeps its first answer, the receipt goes out.
    store::finish_payment(conn, p, outcome(model::payment_status::succeeded, "ch_1"), {201, "{}"},
                          model::outbox_entry{"rcpt_r", "payment_receipt", "{}"});
    EXPECT_EQ(one("SELECT response_status FROM idempotency_keys"), "202");
    EXPECT_EQ(one("SELECT string_agg(type, ',' ORDER BY type) FROM outbox_messages"),
              "payment_pending,payment_receipt");
}

TEST_F(PaymentRecords, ASecondFinishChangesNothing) {
    auto p = new_payment();
    ASSERT_EQ(open(p, claim("k1")).status, store::open_status::opened);
    store::finish_payment(conn, p, outcome(model::payment_status::declined), {402, "{}"}, {});
    auto again = store::finish_payment(conn, p, outcome(model::payment_status::succeeded, "ch_2"),
                                       {201, "{}"}, {});
    EXPECT_EQ(again.status, model::payment_status::declined);
}

TEST_F(PaymentRecords, ThePendingStatusCannotBeFinishedAsRefunded) {
    auto p = new_payment();
    ASSERT_EQ(open(p, claim("k1")).status, store::open_status::opened);
    EXPECT_THROW(
        store::finish_payment(conn, p, outcome(model::payment_status::refunded), {201, "{}"}, {}),
        store::illegal_transition);
}

TEST_F(PaymentRecords, TheDatabaseItselfRefusesAnIllegalTransition) {
    auto p = new_payment();
    ASSERT_EQ(open(p, claim("k1")).status, store::open_status::opened);
    store::finish_payment(conn, p, outcome(model::payment_status::declined), {402, "{}"}, {});
    pqxx::work tx(conn);
    EXPECT_THROW(tx.exec_params("UPDATE payments SET status = 'succeeded' WHERE id = $1", p.id),
                 pqxx::check_violation);
}

TEST_F(PaymentRecords, RecoveryLeavesAPaymentAloneWhileItsRequestHoldsTheKey) {
    auto p = new_payment();
    ASSERT_EQ(open(p, claim("k1")).status, store::open_status::opened);
    {
        pqxx::work tx(conn);
        // Old enough, and due: only the key's lease keeps recovery away.
        tx.exec(
            "UPDATE payments SET created_at = now() - interval '1 hour',"
            " next_recovery_at = NULL");
        tx.commit();
    }
    EXPECT_TRUE(store::claim_payments_to_recover(conn, 1000, 10, 1000).empty());
    {
        pqxx::work tx(conn);
        tx.exec("UPDATE idempotency_keys SET leased_until = now() - interval '1 second'");
        tx.commit();
    }
    auto due = store::claim_payments_to_recover(conn, 1000, 10, 1000);
    ASSERT_EQ(due.size(), 1U);
    EXPECT_EQ(due[0].id, p.id);
    EXPECT_EQ(due[0].recovery_attempts, 1);
}

TEST_F(PaymentRecords, NoColumnCanHoldAFullCardNumber) {
    auto p = new_payment();
    ASSERT_EQ(open(p, claim("k1")).status, store::open_status::opened);
    // The stored card is brand, last 4, expiry and a fingerprint; last4 is exactly 4 digits.
    pqxx::work tx(conn);
    EXPECT_THROW(
        tx.exec_params("UPDATE payments SET card_last4 = '4242424242424242' WHERE id = $1", p.id),
        pqxx::data_exception);
}

}  // namespace
