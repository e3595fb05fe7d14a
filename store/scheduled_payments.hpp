#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "model/scheduled_payment.hpp"
#include "store/errors.hpp"

namespace billpay::store {

using model::scheduled_payment_record;

class database;

/// The columns read_scheduled_payment reads, of `scheduled_payments` named `s`.
extern const char* const scheduled_payment_columns;
scheduled_payment_record read_scheduled_payment(const pqxx::row& row);

/// What scheduling did.
enum class schedule_write {
    scheduled,               // written: `payment`
    pay_on_out_of_range,     // pay_on is before today or past the horizon: `today`
    no_such_payment_method,  // the card is not the account's, or was deleted
    id_taken,                // another scheduled payment has this id: nothing written
};

struct schedule_written {
    schedule_write status = schedule_write::scheduled;
    std::optional<scheduled_payment_record> payment;
    std::string today;  // YYYY-MM-DD in the time zone
};

/// A scheduled payment of `p.id` already written with the same content is returned as it
/// stands (scheduled: the retry of a request whose answer was lost); with other content,
/// id_taken. Otherwise writes `p` (its id, account, card, day, amount) if `p.pay_on` is today or at
/// most `horizon_days` later in `time_zone`, and its card is still the account's (locked meanwhile,
/// so a card deleted at the same moment cannot be scheduled).
schedule_written schedule_payment(pqxx::connection& conn, const scheduled_payment_record& p,
                                  const std::string& time_zone, int horizon_days);
std::vector<scheduled_payment_record> scheduled_payments_of(pqxx::transaction_base& tx,
                                                            const std::string& account_number);

/// What canceling did.
enum class cancel_write {
    canceled,     // it was scheduled and is canceled now (or was canceled already)
    not_found,    // no such scheduled payment for this account
    in_progress,  // its run has begun (or it is paid or failed): it stands
};

struct cancel_written {
    cancel_write status = cancel_write::not_found;
    std::optional<scheduled_payment_record> payment;
};

/// Cancels under the row's lock: the run claims a payment under the same lock, so either the
/// run charges it or the cancel wins, never both.
cancel_written cancel_scheduled_payment(pqxx::connection& conn, const std::string& id,
                                        const std::string& account_number);

/// Scheduled payments for the folders above the store.
class scheduled_payment_store {
  public:
    virtual ~scheduled_payment_store() = default;

    virtual boost::asio::awaitable<result<schedule_written>> schedule(
        const scheduled_payment_record& p, const std::string& time_zone, int horizon_days) = 0;
    virtual boost::asio::awaitable<result<std::vector<scheduled_payment_record>>> list(
        const std::string& account_number) = 0;
    virtual boost::asio::awaitable<result<cancel_written>> cancel(
        const std::string& id, const std::string& account_number) = 0;
};

/// scheduled_payment_store on PostgreSQL.
class scheduled_payment_records final : public scheduled_payment_store {
  public:
    explicit scheduled_payment_records(database& db) : db_(db) {}

    boost::asio::awaitable<result<schedule_written>> schedule(const scheduled_payment_record& p,
                                                              const std::string& time_zone,
                                                              int horizon_days) override;
    boost::asio::awaitable<result<std::vector<scheduled_payment_record>>> list(
        const std::string& account_number) override;
    boost::asio::awaitable<result<cancel_written>> cancel(
        const std::string& id, const std::string& account_number) override;

  private:
    database& db_;
};

}  // namespace billpay::store
