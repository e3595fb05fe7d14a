#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "gateway_adapters/gateway.hpp"
#include "model/scheduled_payment.hpp"
#include "payments/failures.hpp"
#include "payments/requests.hpp"
#include "store/payment_store.hpp"
#include "store/scheduled_payments.hpp"

namespace billpay::payments {

/// POST /v1/scheduled_payments, as the API parsed it.
struct schedule_request {
    std::string client_id;
    std::string idempotency_key;  // the request's, once claimed: the schedule's id derives from it
    std::string account_number;
    std::optional<std::string> bill_id;
    std::int64_t amount = 0;  // minor units of `currency`
    std::string currency;     // upper case, as sent
    std::string payment_method;
    std::string pay_on;  // YYYY-MM-DD, the utility's day
    customer payer;
};

enum class schedule_status {
    scheduled,                   // `payment`
    listed,                      // `payments`
    canceled,                    // `payment`, canceled (now, or before)
    not_found,                   // cancel: no such scheduled payment for this account
    in_progress,                 // cancel: its run has begun (or it is paid or failed)
    no_such_payment_method,      // not a saved card of this account (or deleted)
    payment_method_unusable,     // saved with a processor billpayd no longer uses
    card_expires_before_pay_on,  // the card's expiry month ends before pay_on
    pay_on_out_of_range,         // before today, or past payments.schedule_horizon_days
    key_reused,                  // the key's id holds another scheduled payment: nothing changed
    refused,                     // one of the shared failures: `why`
};

struct schedule_result {
    schedule_status status = schedule_status::refused;
    failure why = failure::store_unavailable;
    std::optional<model::scheduled_payment_record> payment;
    std::vector<model::scheduled_payment_record> payments;
    std::string today;  // pay_on_out_of_range: today in payments.time_zone
};

/// Payments a customer schedules for a later day: checked now (the utility's currencies and
/// amount limits, a saved card of the account's that will not have expired by then, a day
/// within payments.schedule_horizon_days), charged on the day by `billpayctl schedule run` as an
/// ordinary payment (issue 20's next part), cancelable until that run has begun.
class scheduled_payments {
  public:
    scheduled_payments(const config::settings& settings, store::scheduled_payment_store& store,
                       store::payment_store& payments, const gateway::gateway& processor)
        : settings_(settings), store_(store), payments_(payments), processor_(processor) {}

    /// The utility's rules on the payment itself, as for a payment now.
    [[nodiscard]] std::optional<refusal> check(const schedule_request& request) const;

    boost::asio::awaitable<schedule_result> schedule(const schedule_request& request);
    boost::asio::awaitable<schedule_result> list(const std::string& account_number);
    boost::asio::awaitable<schedule_result> cancel(const std::string& id,
                                                   const std::string& account_number);

  private:
    const config::settings& settings_;
    store::scheduled_payment_store& store_;
    store::payment_store& payments_;
    const gateway::gateway& processor_;
};

}  // namespace billpay::payments
