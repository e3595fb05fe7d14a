#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <string_view>
#include <vector>

#include "config/settings.hpp"
#include "gateway_adapters/authorizenet/authorizenet_protocol.hpp"
#include "gateway_adapters/gateway.hpp"
#include "https/client.hpp"

namespace billpay::gateway::authorizenet {

/// One transaction of a list answer (getUnsettledTransactionListRequest,
/// getTransactionListRequest, getTransactionListForCustomerRequest).
struct transaction_summary {
    std::string trans_id;
    std::string status;  // transactionStatus: capturedPendingSettlement, settledSuccessfully, …
    std::string invoice_number;
    std::string submit_time_utc;
    std::string settle_amount;  // a decimal string in major units, as Authorize.Net writes it
    std::string account_type;   // Visa, MasterCard, …
    std::string customer_profile_id;
    std::string payment_profile_id;
};

struct transaction_list {
    outcome result = outcome::failed;  // approved: `transactions` is complete
    std::string message;
    std::vector<transaction_summary> transactions;
    /// Of settled batches read: the latest settlementTimeUTC ("" when none was read).
    std::string latest_settlement_utc{};
};

/// Authorize.Net settles once a day, at the merchant's cut-off.
inline constexpr std::chrono::hours settlement_day{24};

/// What it means that a charge made at `created_at` is in neither transaction list, both read
/// in full, given the latest batch settlement read and the time now: `failed` once its
/// settlement day has closed (docs/processors.md), else `unknown` with when to ask again.
charge_result absence_after(std::string_view created_at, std::string_view latest_settlement,
                            std::chrono::system_clock::time_point now);

/// A settlement batch (getSettledBatchListRequest).
struct batch {
    std::string batch_id;
    std::string settlement_time_utc;
    std::string settlement_state;  // settledSuccessfully, settlementError, pendingSettlement
};

struct batch_list {
    outcome result = outcome::failed;
    std::string message;
    std::vector<batch> batches;
};

/// Authorize.Net's JSON API (config `gateway.authorizenet`): every call is a POST of one JSON
/// request object to the endpoint (…/xml/v1/request.api), signed in with merchantAuthentication
/// (API Login ID and Transaction Key, from credential files). Customer profiles hold the cards:
///   tokenize     a saved card: createCustomerProfileRequest (merchantCustomerId: the
///                account's pseudonym), or createCustomerPaymentProfileRequest when the account
///                has a profile already (ten payment profiles at most: E00042 is
///                too_many_cards); the token is customerProfileId/customerPaymentProfileId.
///                One payment's card: a customer profile of its own ("once:" token), deleted
///                by discard_token (deleteCustomerProfileRequest) once the payment is final
///   adopt_token  the same, with Accept.js opaqueData instead of a card, then
///                getCustomerPaymentProfileRequest for the card's type, last 4 and expiry
///   charge       createTransactionRequest authCaptureTransaction against the profile, with
///                order.invoiceNumber from the payment id (invoice_number_for)
///   lookup       getUnsettledTransactionListRequest by invoice number, then the batches
///                settled since the charge was made (getSettledBatchListRequest,
///                getTransactionListRequest): never through a payment profile, which may be gone
///   refund       getTransactionDetailsRequest, then voidTransaction if the charge has not
///                settled (and the whole amount is refunded) or refundTransaction (the card by
///                its last 4 digits, the charge by refTransId) if it has; asked again, it first
///                looks for its earlier refund by invoice number in the same lists as lookup
///   void_charge  voidTransaction; delete_token: deleteCustomerPaymentProfileRequest
/// Authorize.Net has no idempotency keys: a charge whose answer was lost is never sent again,
/// only looked up.
class authorizenet_gateway final : public gateway {
  public:
    authorizenet_gateway(const config::authorizenet_settings& settings,
                         boost::asio::any_io_executor executor);

    [[nodiscard]] std::string_view name() const noexcept override { return "authorizenet"; }
    boost::asio::awaitable<tokenize_result> tokenize(const tokenizer::card_data& card,
                                                     const std::string& customer_reference,
                                                     token_use use, deadline by) override;
    boost::asio::awaitable<charge_result> charge(const charge_request& request,
                                                 deadline by) override;
    boost::asio::awaitable<charge_result> lookup(const charge_request& request,
                                                 deadline by) override;
    boost::asio::awaitable<refund_result> refund(const refund_request& request,
                                                 deadline by) override;
    boost::asio::awaitable<refund_result> void_charge(const refund_request& request,
                                                      deadline by) override;
    /// The settled batches between the two days (getSettledBatchListRequest, then each
    /// batch's getTransactionListRequest): its settled charges and refunds; voided and
    /// declined transactions moved nothing and are left out.
    boost::asio::awaitable<settlement_list> settlements(const std::string& first_day,
                                                        const std::string& last_day,
                                                        model::currency unit, deadline by) override;
    boost::asio::awaitable<delete_result> delete_token(const std::string& token,
                                                       deadline by) override;
    /// deleteCustomerPaymentProfileRequest: a one-payment card's profile, once its payment is
    /// final, so that one-off cards never count toward the customer's ten.
    boost::asio::awaitable<delete_result> discard_token(const std::string& token,
                                                        deadline by) override;
    boost::asio::awaitable<customer_list> list_customers(deadline by) override;
    [[nodiscard]] std::optional<std::string> customer_of(const std::string& token) const override;
    boost::asio::awaitable<delete_result> forget_customer(const std::string& id,
                                                          deadline by) override;
    boost::asio::awaitable<token_description> adopt_token(const browser_token& token,
                                                          const std::string& customer_reference,
                                                          token_use use, deadline by) override;

    /// Settlement batches between two UTC times ("2026-11-01T00:00:00Z"; Authorize.Net allows
    /// at most 31 days), for finance's settlement import.
    boost::asio::awaitable<batch_list> settled_batches(const std::string& first_settlement,
                                                       const std::string& last_settlement,
                                                       deadline by);
    /// Every transaction of one settled batch (getTransactionListRequest, all pages).
    boost::asio::awaitable<transaction_list> batch_transactions(const std::string& batch_id,
                                                                deadline by);

  private:
    struct exchange {
        https::send_stage stage = https::send_stage::not_sent;
        int http_status = 0;
        response answer;
        std::string error;
    };
    using write_fn = std::function<void(request_writer&)>;

    /// POSTs the request `write` fills in (after merchantAuthentication), by the earlier of `by`
    /// and the configured timeout.
    boost::asio::awaitable<exchange> call(std::string_view request_name, const write_fn& write,
                                          deadline by);
    /// A delete…Request: approved when done, declined when Authorize.Net has no such record
    /// (E00040: what was asked is true), failed or unknown otherwise.
    boost::asio::awaitable<delete_result> delete_request(std::string_view request_name,
                                                         const write_fn& write, deadline by);
    /// Makes (or finds) the customer's profile and a payment profile in it for what
    /// `write_payment` writes (a card or opaqueData): a saved card's. For one payment, a customer
    /// profile of its own instead, deleted with the payment (discard_token): one-payment cards
    /// never count toward the account's ten, nor share a profile with another payment.
    /// `write_bill_to` (may be empty) writes the cardholder's name and postal code, for the
    /// processor's address and name checks.
    boost::asio::awaitable<tokenize_result> make_payment_profile(
        const std::string& customer_reference, token_use use, const write_fn& write_payment,
        const write_fn& write_bill_to, deadline by);
    /// Every page of a transaction list request; `write_filter` writes its fields before
    /// sorting and paging.
    boost::asio::awaitable<transaction_list> list_transactions(std::string_view request_name,
                                                               const write_fn& write_filter,
                                                               deadline by);
    /// Every transaction of the batches settled from `since`'s day on (31 days at most).
    boost::asio::awaitable<transaction_list> settled_since(const std::string& since, deadline by);
    /// A refund under `invoice` among the unsettled transactions and those settled since
    /// `since`: approved when found, nullopt when both lists were read and it is in neither
    /// with Authorize.Net's record for `since` complete (absence_after), unknown otherwise.
    boost::asio::awaitable<std::optional<refund_result>> earlier_refund(const std::string& invoice,
                                                                        const std::string& since,
                                                                        deadline by);
    /// A createTransactionRequest's answer as a refund_result.
    boost::asio::awaitable<refund_result> reverse(const write_fn& write_transaction, deadline by);

    config::authorizenet_settings settings_;
    https::endpoint endpoint_;
    https::client client_;
};

}  // namespace billpay::gateway::authorizenet
