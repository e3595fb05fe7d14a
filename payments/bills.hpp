#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "config/settings.hpp"
#include "model/bill.hpp"
#include "payments/failures.hpp"
#include "payments/requests.hpp"
#include "store/bills.hpp"

namespace billpay::payments {

/// A bill as the utility's billing system sends it (POST /v1/bills), checked for form by the API.
struct bill_request {
    std::string client_id;  // the billing system
    std::string account_number;
    std::string bill_id;
    std::int64_t amount_due = 0;  // minor units of `currency`
    std::string currency;         // upper case, as sent
    std::string due_date;         // YYYY-MM-DD, the utility's day
};

enum class bill_status {
    recorded,   // a new bill
    unchanged,  // sent before with the same content: the bill as it stands
    conflict,   // another bill has this account and bill id: nothing changed
    refused,    // one of the shared failures (`bill_result::why`)
};

struct bill_result {
    bill_status status = bill_status::refused;
    failure why = failure::store_unavailable;  // refused
    std::optional<model::bill_record> bill;    // as stored (the earlier one on conflict)
};

/// The bills the utility's billing system announces: what AutoPay pays by its due date, and what
/// a customer's payment of the same account and bill id settles. Each (account, bill id) is one
/// bill forever: the same bill again is answered as it stands, other content is a conflict
/// (a billing system that reissues a bill gives it a new id). Whether it is paid is the
/// payments' own record, read with it.
class bills {
  public:
    bills(const config::settings& settings, store::bill_store& store)
        : settings_(settings), store_(store) {}

    /// The utility's rules on a bill (its currency is one the utility takes payments in), as for
    /// a payment; nullopt for a bill `receive` may take.
    [[nodiscard]] std::optional<refusal> check(const bill_request& request) const;

    boost::asio::awaitable<bill_result> receive(const bill_request& request);

  private:
    const config::settings& settings_;
    store::bill_store& store_;
};

}  // namespace billpay::payments
