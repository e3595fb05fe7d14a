#include "store/payment_store.hpp"

#include <pqxx/pqxx>

#include "store/database.hpp"
#include "store/statements.hpp"

namespace billpay::store {

open_result open_payment(pqxx::connection& conn, const open_request& request) {
    const payment_record& p = request.payment;
    std::optional<std::string> guard_bill;
    std::int64_t window = 0;
    if (request.guard) {
        guard_bill = request.guard->bill_id;
        window = request.guard->window_minutes;
    }
    pqxx::nontransaction tx(conn);  // one statement, one round trip, one synchronous commit
    auto row = tx.exec_prepared1(
        statements::prepared(conn, statements::open_payment), p.id, p.client_id, p.account_number,
        p.bill_id, p.amount.minor_units, std::string(p.amount.unit.code()), p.confirmation,
        p.card.brand, p.card.last4, p.card.exp_month, p.card.exp_year, p.card.fingerprint,
        p.payment_method_id, p.processor, p.processor_token, p.token_owned, p.customer_name,
        p.customer_email, p.metadata_json, p.created_at, request.key.key, request.key.lease_id,
        static_cast<std::int64_t>(request.lease.count()), guard_bill, window);
    open_result out;
    const auto status = row[0].as<std::string>();
    if (status == "possible_duplicate") {
        out.status = open_status::possible_duplicate;
        out.existing_payment = row[1].as<std::string>();
        return out;
    }
    if (status == "lease_lost") {
        out.status = open_status::lease_lost;
        return out;
    }
    out.status = open_status::opened;
    out.payment = as_opened(p);
    return out;
}

payment_record as_opened(const payment_record& payment) {
    // Recorded as sent: nothing the database adds differs from what the request gave.
    payment_record p = payment;
    p.status = model::payment_status::pending;
    p.updated_at = p.created_at;
    p.amount_refunded = 0;
    p.recovery_attempts = 0;
    p.needs_review = false;
    return p;
}

boost::asio::awaitable<result<open_result>> postgres_payment_store::open(
    const open_request& request) {
    co_return co_await db_.call(
        [&request](pqxx::connection& conn) { return open_payment(conn, request); });
}

boost::asio::awaitable<result<lost_open>> postgres_payment_store::settle_lost_open(
    const open_request& request) {
    co_return co_await db_.call([&request](pqxx::connection& conn) {
        pqxx::nontransaction tx(conn);  // one statement; its commit waits for the standby
        const auto status =
            tx.exec_params1("SELECT status FROM billpay_settle_lost_open($1, $2, $3, $4, $5)",
                            request.key.client_id, request.key.key, request.key.lease_id,
                            request.payment.id, static_cast<std::int64_t>(request.lease.count()))[0]
                .as<std::string>();
        return status == "opened"       ? lost_open::opened
               : status == "not_opened" ? lost_open::not_opened
                                        : lost_open::lease_lost;
    });
}

boost::asio::awaitable<result<payment_record>> postgres_payment_store::finish(
    const finish_request& request) {
    auto finished = co_await db_.call([&request](pqxx::connection& conn) {
        return finish_payment(conn, request.payment, request.outcome, request.answer,
                              request.message);
    });
    if (finished && request.message) {
        db_.messages_added().raise();
    }
    co_return finished;
}

boost::asio::awaitable<result<std::optional<payment_record>>> postgres_payment_store::find_payment(
    const std::string& id) {
    co_return co_await db_.call(
        [&id](pqxx::connection& conn) { return store::find_payment(conn, id); });
}

boost::asio::awaitable<result<payment_page>> postgres_payment_store::list_payments(
    const payment_filter& filter) {
    co_return co_await db_.call(
        [&filter](pqxx::connection& conn) { return store::list_payments(conn, filter); });
}

boost::asio::awaitable<result<std::optional<payment_method_record>>>
postgres_payment_store::find_payment_method(const std::string& id) {
    co_return co_await db_.call(
        [&id](pqxx::connection& conn) { return store::find_payment_method(conn, id); });
}

boost::asio::awaitable<result<std::vector<payment_method_record>>>
postgres_payment_store::list_payment_methods(const std::string& account_number) {
    co_return co_await db_.call([&account_number](pqxx::connection& conn) {
        return store::list_payment_methods(conn, account_number);
    });
}

boost::asio::awaitable<result<saved_method>> postgres_payment_store::save_payment_method(
    const payment_method_record& method) {
    co_return co_await db_.call(
        [&method](pqxx::connection& conn) { return store::save_payment_method(conn, method); });
}

boost::asio::awaitable<result<bool>> postgres_payment_store::delete_payment_method(
    const std::string& id, const autopay_ended_notice& ended_notice) {
    co_return co_await db_.call([&](pqxx::connection& conn) {
        return store::delete_payment_method(conn, id, ended_notice);
    });
}

boost::asio::awaitable<result<std::vector<payment_record>>>
postgres_payment_store::claim_for_recovery(const recovery_claim& claim) {
    co_return co_await db_.call([&claim](pqxx::connection& conn) {
        return claim_payments_to_recover(conn, claim.pending_for.count(), claim.batch,
                                         claim.retry_after.count());
    });
}

boost::asio::awaitable<result<void>> postgres_payment_store::defer_recovery(
    const std::string& payment_id, std::chrono::milliseconds after) {
    co_return co_await db_.call([&payment_id, after](pqxx::connection& conn) {
        store::defer_recovery(conn, payment_id, after.count());
    });
}

boost::asio::awaitable<result<void>> postgres_payment_store::flag_for_review(
    const std::string& payment_id) {
    co_return co_await db_.call(
        [&payment_id](pqxx::connection& conn) { mark_needs_review(conn, payment_id); });
}

}  // namespace billpay::store
