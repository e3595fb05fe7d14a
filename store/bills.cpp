#include "store/bills.hpp"

#include "store/database.hpp"

namespace billpay::store {
namespace {

constexpr const char* bill_columns =
    "b.account_number, b.bill_id, b.amount_due, b.currency, to_char(b.due_date, 'YYYY-MM-DD'),"
    " b.client_id, to_char(b.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " (SELECT p.id FROM payments p WHERE p.account_number = b.account_number"
    "    AND p.bill_id = b.bill_id"
    "    AND p.status IN ('succeeded', 'partially_refunded', 'refunded')"
    "  ORDER BY p.created_at LIMIT 1)";

bill_record read_bill(const pqxx::row& r) {
    bill_record b;
    b.account_number = r[0].as<std::string>();
    b.bill_id = r[1].as<std::string>();
    b.amount_due.minor_units = r[2].as<std::int64_t>();
    b.amount_due.unit = model::currency::parse(r[3].as<std::string>()).value();
    b.due_date = r[4].as<std::string>();
    b.client_id = r[5].as<std::string>();
    b.created_at = r[6].as<std::string>();
    if (!r[7].is_null()) {
        b.paid_by = r[7].as<std::string>();
    }
    return b;
}

std::optional<bill_record> read_one(pqxx::transaction_base& tx, const std::string& account_number,
                                    const std::string& bill_id) {
    auto rows = tx.exec_params(std::string("SELECT ") + bill_columns +
                                   " FROM bills b WHERE b.account_number = $1 AND b.bill_id = $2",
                               account_number, bill_id);
    if (rows.empty()) {
        return std::nullopt;
    }
    return read_bill(rows[0]);
}

}  // namespace

std::vector<bill_record> bills_of(pqxx::transaction_base& tx, const std::string& account_number) {
    std::vector<bill_record> out;
    for (const auto& row : tx.exec_params(std::string("SELECT ") + bill_columns +
                                              " FROM bills b WHERE b.account_number = $1"
                                              " ORDER BY b.due_date, b.bill_id",
                                          account_number)) {
        out.push_back(read_bill(row));
    }
    return out;
}

bill_written record_bill(pqxx::connection& conn, const bill_record& bill) {
    pqxx::work tx(conn);
    auto inserted = tx.exec_params(
        "INSERT INTO bills (account_number, bill_id, amount_due, currency, due_date, client_id)"
        " VALUES ($1, $2, $3, $4, $5::date, $6)"
        " ON CONFLICT (account_number, bill_id) DO NOTHING RETURNING 1",
        bill.account_number, bill.bill_id, bill.amount_due.minor_units,
        std::string(bill.amount_due.unit.code()), bill.due_date, bill.client_id);
    bill_written out;
    out.bill = read_one(tx, bill.account_number, bill.bill_id).value();
    if (inserted.empty()) {
        const bool same = out.bill.amount_due.minor_units == bill.amount_due.minor_units &&
                          out.bill.amount_due.unit == bill.amount_due.unit &&
                          out.bill.due_date == bill.due_date;
        out.status = same ? bill_write::unchanged : bill_write::conflict;
    }
    tx.commit();
    return out;
}

std::optional<bill_record> find_bill(pqxx::connection& conn, const std::string& account_number,
                                     const std::string& bill_id) {
    pqxx::read_transaction tx(conn);
    return read_one(tx, account_number, bill_id);
}

boost::asio::awaitable<result<bill_written>> bill_records::record(const bill_record& bill) {
    co_return co_await db_.call([&](pqxx::connection& conn) { return record_bill(conn, bill); });
}

boost::asio::awaitable<result<std::optional<bill_record>>> bill_records::find(
    const std::string& account_number, const std::string& bill_id) {
    co_return co_await db_.call(
        [&](pqxx::connection& conn) { return find_bill(conn, account_number, bill_id); });
}

}  // namespace billpay::store
