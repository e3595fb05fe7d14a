#include "store/payment_store.hpp"

#include <pqxx/pqxx>

#include "store/database.hpp"

namespace billpay::store {

open_result open_payment(pqxx::connection& conn, const open_request& request) {
    const payment_record& p = request.payment;
    pqxx::work tx(conn);
    open_result out;
    if (request.guard) {
        // Serialise payments of one bill, then look for a recent or running one. A request's
        // own key is never in the way: it has no payment until this transaction commits.
        tx.exec_params("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))",
                       p.account_number + "\x1f" + request.guard->bill_id);
        auto paid = tx.exec_params(
            "SELECT id FROM payments WHERE account_number = $1 AND bill_id = $2"
            "   AND status IN ('pending', 'succeeded', 'partially_refunded')"
            "   AND created_at > now() - make_interval(mins => $3::int)"
            " ORDER BY created_at DESC LIMIT 1",
            p.account_number, request.guard->bill_id, request.guard->window_minutes);
        if (!paid.empty()) {
            out.status = open_status::possible_duplicate;
            out.existing_payment = paid[0][0].as<std::string>();
            return out;  // rolled back: nothing written
        }
    }
    insert_payment(tx, p, request.lease);
    if (!attach_payment(tx, request.key, p.id, request.lease)) {
        out.status = open_status::lease_lost;
        return out;  // rolled back: a request that lost its key records nothing
    }
    out.payment = find_payment_in(tx, p.id, false).value();
    tx.commit();
    out.status = open_status::opened;
    return out;
}

boost::asio::awaitable<result<open_result>> postgres_payment_store::open(
    const open_request& request) {
    co_return co_await db_.call(
        [&request](pqxx::connection& conn) { return open_payment(conn, request); });
}

boost::asio::awaitable<result<payment_record>> postgres_payment_store::finish(
    const finish_request& request) {
    co_return co_await db_.call([&request](pqxx::connection& conn) {
        return finish_payment(conn, request.payment_id, request.outcome, request.answer,
                              request.message);
    });
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
    const std::string& id) {
    co_return co_await db_.call(
        [&id](pqxx::connection& conn) { return store::delete_payment_method(conn, id); });
}

boost::asio::awaitable<result<std::vector<payment_record>>>
postgres_payment_store::claim_for_recovery(const recovery_claim& claim) {
    co_return co_await db_.call([&claim](pqxx::connection& conn) {
        return claim_payments_to_recover(conn, claim.pending_for.count(), claim.batch,
                                         claim.retry_after.count());
    });
}

boost::asio::awaitable<result<void>> postgres_payment_store::flag_for_review(
    const std::string& payment_id) {
    co_return co_await db_.call(
        [&payment_id](pqxx::connection& conn) { mark_needs_review(conn, payment_id); });
}

}  // namespace billpay::store
