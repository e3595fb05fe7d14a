#include "store/autopay.hpp"

#include "store/database.hpp"

namespace billpay::store {
const char* const autopay_columns =
    "e.account_number, e.payment_method_id, e.days_before_due, e.max_amount, e.client_id,"
    " to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " to_char(e.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " coalesce(e.customer_name, ''), coalesce(e.customer_email, '')";

autopay_enrollment read_autopay(const pqxx::row& r, int first) {
    autopay_enrollment e;
    e.account_number = r[first].as<std::string>();
    e.payment_method_id = r[first + 1].as<std::string>();
    e.days_before_due = r[first + 2].as<int>();
    if (!r[first + 3].is_null()) {
        e.max_amount = r[first + 3].as<std::int64_t>();
    }
    e.client_id = r[first + 4].as<std::string>();
    e.created_at = r[first + 5].as<std::string>();
    e.updated_at = r[first + 6].as<std::string>();
    e.customer_name = r[first + 7].as<std::string>();
    e.customer_email = r[first + 8].as<std::string>();
    return e;
}

std::optional<autopay_enrollment> enroll_autopay(pqxx::connection& conn,
                                                 const autopay_enrollment& e) {
    pqxx::work tx(conn);
    auto card = tx.exec_params(
        "SELECT 1 FROM payment_methods WHERE id = $1 AND account_number = $2"
        " AND deleted_at IS NULL FOR SHARE",
        e.payment_method_id, e.account_number);
    if (card.empty()) {
        return std::nullopt;
    }
    auto rows = tx.exec_params(
        std::string("INSERT INTO autopay_enrollments AS e (account_number, payment_method_id,"
                    " days_before_due, max_amount, client_id, customer_name, customer_email)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7)"
                    " ON CONFLICT (account_number) DO UPDATE SET"
                    " payment_method_id = EXCLUDED.payment_method_id,"
                    " days_before_due = EXCLUDED.days_before_due,"
                    " max_amount = EXCLUDED.max_amount, client_id = EXCLUDED.client_id,"
                    " customer_name = EXCLUDED.customer_name,"
                    " customer_email = EXCLUDED.customer_email, updated_at = now() RETURNING ") +
            autopay_columns,
        e.account_number, e.payment_method_id, e.days_before_due, e.max_amount, e.client_id,
        e.customer_name, e.customer_email);
    tx.commit();
    return read_autopay(rows[0]);
}

std::optional<autopay_enrollment> find_autopay(pqxx::connection& conn,
                                               const std::string& account_number) {
    pqxx::read_transaction tx(conn);
    return autopay_of(tx, account_number);
}

std::optional<autopay_enrollment> autopay_of(pqxx::transaction_base& tx,
                                             const std::string& account_number) {
    auto rows = tx.exec_params(std::string("SELECT ") + autopay_columns +
                                   " FROM autopay_enrollments e WHERE account_number = $1",
                               account_number);
    if (rows.empty()) {
        return std::nullopt;
    }
    return read_autopay(rows[0]);
}

bool end_autopay(pqxx::connection& conn, const std::string& account_number) {
    pqxx::work tx(conn);
    auto r =
        tx.exec_params("DELETE FROM autopay_enrollments WHERE account_number = $1", account_number);
    tx.commit();
    return r.affected_rows() == 1;
}

boost::asio::awaitable<result<std::optional<autopay_enrollment>>> autopay_records::enroll(
    const autopay_enrollment& e) {
    co_return co_await db_.call([&](pqxx::connection& conn) { return enroll_autopay(conn, e); });
}

boost::asio::awaitable<result<std::optional<autopay_enrollment>>> autopay_records::find(
    const std::string& account_number) {
    co_return co_await db_.call(
        [&](pqxx::connection& conn) { return find_autopay(conn, account_number); });
}

boost::asio::awaitable<result<bool>> autopay_records::end(const std::string& account_number) {
    co_return co_await db_.call(
        [&](pqxx::connection& conn) { return end_autopay(conn, account_number); });
}

}  // namespace billpay::store
