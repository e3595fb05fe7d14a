#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "gateway_adapters/gateway.hpp"
#include "model/autopay.hpp"
#include "payments/failures.hpp"
#include "payments/requests.hpp"
#include "store/autopay.hpp"
#include "store/payment_store.hpp"

namespace billpay::payments {

/// PUT /v1/accounts/{account_number}/autopay, checked for form by the API.
struct autopay_request {
    std::string client_id;
    std::string account_number;
    std::string payment_method;  // pm_… of a card the account saved
    int days_before_due = 0;     // 0-10
    std::optional<std::int64_t> max_amount;
    customer payer;  // AutoPay's receipts and notices go to them
};

enum class autopay_status {
    enrolled,                 // enrolled (or its enrollment changed): `enrollment`
    not_enrolled,             // show, end: the account has no AutoPay
    ended,                    // end: it had, and has no more
    no_such_payment_method,   // enroll: not a saved card of this account (or deleted)
    payment_method_unusable,  // enroll: saved with a processor billpayd no longer uses
    refused,                  // one of the shared failures: `why`
};

struct autopay_result {
    autopay_status status = autopay_status::refused;
    failure why = failure::store_unavailable;
    std::optional<model::autopay_enrollment> enrollment;
};

/// AutoPay: an account's standing order to pay each bill from one saved card on (or a few days
/// before) its due date. One enrollment per account; enrolling again changes it. It ends when the
/// customer ends it, or deletes the card (payment_service::delete_card, in the store's same
/// transaction). The charges themselves are `billpayctl schedule run`'s (issue 20's next part),
/// each an ordinary payment through payment_service::pay.
class autopay {
  public:
    autopay(store::autopay_store& enrollments, store::payment_store& payments,
            const gateway::gateway& processor)
        : enrollments_(enrollments), payments_(payments), processor_(processor) {}

    boost::asio::awaitable<autopay_result> enroll(const autopay_request& request);
    boost::asio::awaitable<autopay_result> show(const std::string& account_number);
    boost::asio::awaitable<autopay_result> end(const std::string& account_number);

  private:
    store::autopay_store& enrollments_;
    store::payment_store& payments_;
    const gateway::gateway& processor_;
};

}  // namespace billpay::payments
