#include "store/autopay.hpp"

#include "store/database.hpp"

namespace billpay::store {
namespace {

constexpr const char* enrollment_columns =
    "account_number, payment_method_id, days_before_due, max_amount, client_id,"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";

autopay_enrollment read_enrollment(const pqxx::row& r) {
    autopay_enrollment e;
    e.account_number = r[0].as<std::string>();
    e.payment_method_id = r[1].as<std::string>();
    e.days_before_due = r[2].as<int>();
    if (!r[3].is_null()) {
        e.max_amount = r[3].as<std::int64_t>();
    }
    e.client_id = r[4].as<std::string>();
    e.created_at = r[5].as<std::string>();
    e.updated_at = r[6].as<std::string>();
    return e;
}

}  // namespace

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
        std::string("INSERT INTO autopay_enrollments (account_number, payment_method_id,"
                    " days_before_due, max_amount, client_id) VALUES ($1, $2, $3, $4, $5)"
                    " ON CONFLICT (account_number) DO UPDATE SET"
                    " payment_method_id = EXCLUDED.payment_method_id,"
                    " days_before_due = EXCLUDED.days_before_due,"
                    " max_amount = EXCLUDED.max_amount, client_id = EXCLUDED.client_id,"
                    " updated_at = now() RETURNING ") +
            enrollment_columns,
        e.account_number, e.payment_method_id, e.days_before_due, e.max_amount, e.client_id);
    tx.commit();
    return read_enrollment(rows[0]);
}

std::optional<autopay_enrollment> find_autopay(pqxx::connection& conn,
                                               const std::string& account_number) {
    pqxx::read_transaction tx(conn);
    return autopay_of(tx, account_number);
}

std::optional<autopay_enrollment> autopay_of(pqxx::transaction_base& tx,
                                             const std::string& account_number) {
    auto rows = tx.exec_params(std::string("SELECT ") + enrollment_columns +
                                   " FROM autopay_enrollments WHERE account_number = $1",
                               account_number);
    if (rows.empty()) {
        return std::nullopt;
    }
    return read_enrollment(rows[0]);
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
