#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>

#include "model/autopay.hpp"
#include "store/errors.hpp"

namespace billpay::store {

using model::autopay_enrollment;

class database;

/// The columns read_autopay reads, of `autopay_enrollments` named `e`, from `first` on.
extern const char* const autopay_columns;
autopay_enrollment read_autopay(const pqxx::row& row, int first = 0);

/// Enrolls `e.account_number` (or changes its enrollment) with the saved card
/// `e.payment_method_id`, which must be the account's and not deleted: its row is locked while
/// the enrollment is written, so a card deleted at the same moment ends the enrollment after.
/// nullopt when there is no such card for the account.
std::optional<autopay_enrollment> enroll_autopay(pqxx::connection& conn,
                                                 const autopay_enrollment& e);
std::optional<autopay_enrollment> find_autopay(pqxx::connection& conn,
                                               const std::string& account_number);
/// The account's enrollment, inside a transaction of the caller's (a customer's export).
std::optional<autopay_enrollment> autopay_of(pqxx::transaction_base& tx,
                                             const std::string& account_number);
/// False when the account was not enrolled.
bool end_autopay(pqxx::connection& conn, const std::string& account_number);

/// AutoPay enrollments for the folders above the store.
class autopay_store {
  public:
    virtual ~autopay_store() = default;

    virtual boost::asio::awaitable<result<std::optional<autopay_enrollment>>> enroll(
        const autopay_enrollment& e) = 0;
    virtual boost::asio::awaitable<result<std::optional<autopay_enrollment>>> find(
        const std::string& account_number) = 0;
    virtual boost::asio::awaitable<result<bool>> end(const std::string& account_number) = 0;
};

/// autopay_store on PostgreSQL.
class autopay_records final : public autopay_store {
  public:
    explicit autopay_records(database& db) : db_(db) {}

    boost::asio::awaitable<result<std::optional<autopay_enrollment>>> enroll(
        const autopay_enrollment& e) override;
    boost::asio::awaitable<result<std::optional<autopay_enrollment>>> find(
        const std::string& account_number) override;
    boost::asio::awaitable<result<bool>> end(const std::string& account_number) override;

  private:
    database& db_;
};

}  // namespace billpay::store
