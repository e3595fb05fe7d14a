#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "model/bill.hpp"
#include "store/errors.hpp"

namespace billpay::store {

using model::bill_record;

class database;

/// What recording a bill did.
enum class bill_write {
    created,    // a new bill
    unchanged,  // this bill was recorded before, with the same content
    conflict,   // another bill holds this account and bill id: nothing written
};

struct bill_written {
    bill_write status = bill_write::created;
    bill_record bill;  // as stored (the earlier one, for unchanged and conflict)
};

/// Records a bill once per (account, bill id): `bill.created_at` and `paid_by` are the store's.
/// error::invalid_argument when PostgreSQL refuses the due date.
bill_written record_bill(pqxx::connection& conn, const bill_record& bill);

/// A bill as stored, with the payment that paid it.
std::optional<bill_record> find_bill(pqxx::connection& conn, const std::string& account_number,
                                     const std::string& bill_id);

/// Every bill of an account, by due date (a customer's export).
std::vector<bill_record> bills_of(pqxx::transaction_base& tx, const std::string& account_number);

/// Bills for the folders above the store.
class bill_store {
  public:
    virtual ~bill_store() = default;

    virtual boost::asio::awaitable<result<bill_written>> record(const bill_record& bill) = 0;
    virtual boost::asio::awaitable<result<std::optional<bill_record>>> find(
        const std::string& account_number, const std::string& bill_id) = 0;
};

/// bill_store on PostgreSQL.
class bill_records final : public bill_store {
  public:
    explicit bill_records(database& db) : db_(db) {}

    boost::asio::awaitable<result<bill_written>> record(const bill_record& bill) override;
    boost::asio::awaitable<result<std::optional<bill_record>>> find(
        const std::string& account_number, const std::string& bill_id) override;

  private:
    database& db_;
};

}  // namespace billpay::store
