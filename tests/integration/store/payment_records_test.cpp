#include "store/payment_records.hpp"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "payments/ids.hpp"
#include "store/idempotency_keys.hpp"
#include "store/migrations.hpp"
#include "tests/support/test_database.hpp"

namespace {

using namespace billpay;

class PaymentRecords : public ::testing::Test {
  protected:
    void SetUp() override {
        store::migrate(conn);
        store::key_claim claim{"portal", "k1", "POST", "/v1/payments", "fp"};
        ASSERT_EQ(store::claim_key(conn, claim).status, store::claim_status::claimed);
        payment.id = payments::new_id("pay");
        payment.client_id = "portal";
        payment.account_number = "1001-2002";
        payment.amount = {12500, payments::currency::parse("USD").value()};
        payment.confirmation = payments::new_confirmation_code();
        payment.card = {"visa", "4242", 12, 2031, "f"};
        payment.processor = "simulator";
        payment.processor_token = "tok";
        payment.customer_name = "Ada";
        payment.customer_email = "ada@example.com";
        store::insert_payment(conn, payment, "k1");
    }

    test::test_database db;
    pqxx::connection conn{db.dsn()};
    store::payment_record payment;
};

TEST_F(PaymentRecords, FinishingStoresTheStatusAndTheKeysResponseTogether) {
    auto done = store::finish_payment(
        conn, payment.id, {payments::payment_status::succeeded, "ch_1", std::nullopt, {}, {}},
        {[](const store::payment_record& p) {
             return store::stored_response{201, "{\"id\":\"" + p.id + "\"}"};
         },
         {}});
    EXPECT_EQ(done.status, payments::payment_status::succeeded);
    EXPECT_EQ(done.processor_reference, "ch_1");
    store::key_claim again{"portal", "k1", "POST", "/v1/payments", "fp"};
    auto replay = store::claim_key(conn, again);
    EXPECT_EQ(replay.status, store::claim_status::replay);
    EXPECT_EQ(replay.response.status, 201);
    EXPECT_EQ(replay.response.body, "{\"id\":\"" + payment.id + "\"}");
}

TEST_F(PaymentRecords, ASecondFinishChangesNothing) {
    store::finish_payment(conn, payment.id, {payments::payment_status::declined, {}, {}, "x", {}},
                          {});
    auto again = store::finish_payment(
        conn, payment.id, {payments::payment_status::succeeded, "ch_2", {}, {}, {}}, {});
    EXPECT_EQ(again.status, payments::payment_status::declined);
}

TEST_F(PaymentRecords, ThePendingStatusCannotBeFinishedAsRefunded) {
    EXPECT_THROW(store::finish_payment(conn, payment.id,
                                       {payments::payment_status::refunded, {}, {}, {}, {}}, {}),
                 store::illegal_transition);
}

TEST_F(PaymentRecords, TheDatabaseItselfRefusesAnIllegalTransition) {
    store::finish_payment(conn, payment.id, {payments::payment_status::declined, {}, {}, {}, {}},
                          {});
    pqxx::work tx(conn);
    EXPECT_THROW(
        tx.exec_params("UPDATE payments SET status = 'succeeded' WHERE id = $1", payment.id),
        pqxx::check_violation);
}

TEST_F(PaymentRecords, NoColumnCanHoldAFullCardNumber) {
    // The stored card is brand, last 4, expiry and a fingerprint; last4 is exactly 4 digits.
    pqxx::work tx(conn);
    EXPECT_THROW(tx.exec_params("UPDATE payments SET card_last4 = '4242424242424242' WHERE id = $1",
                                payment.id),
                 pqxx::data_exception);
}

}  // namespace
