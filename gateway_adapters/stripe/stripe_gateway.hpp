#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/value.hpp>
#include <string_view>

#include "config/settings.hpp"
#include "gateway_adapters/gateway.hpp"
#include "https/client.hpp"

namespace billpay::gateway::stripe {

/// The Stripe API version billpayd is written against, sent as Stripe-Version on every call.
inline constexpr const char* api_version = "2024-06-20";

/// Encodes one `key=value` pair of an application/x-www-form-urlencoded body (Stripe's request
/// format, with bracket nesting written out: `card[number]`), appending to `body`.
void append_form(https::client::request::body_type::value_type& body, std::string_view key,
                 std::string_view value);

/// A token as billpayd keeps it: a saved card's is "cus_…/pm_…" (the PaymentMethod on the
/// account's Customer, which a charge must name too); a one-off card's is the bare "pm_…".
struct saved_token {
    std::string customer;  // empty: on no Customer
    std::string payment_method;
};
saved_token split_token(std::string_view token);
std::string join_token(const std::string& customer, const std::string& payment_method);

/// Stripe over HTTPS (config `gateway.stripe`): API v1, form-encoded requests, the secret key as
/// a Bearer token, our key as Idempotency-Key on every call that changes something.
///   tokenize     POST /v1/payment_methods (type=card, card[number], card[exp_month], …);
///                a card to save is then attached (POST /v1/payment_methods/{id}/attach) to the
///                account's Customer: found by GET /v1/customers/search on
///                metadata[billpay_customer] (the account's pseudonym), or made by POST
///                /v1/customers under the Idempotency-Key billpay-customer-{pseudonym}. Stripe
///                lets a PaymentMethod on no Customer pay once only.
///   charge       POST /v1/payment_intents (amount, currency, [customer,] payment_method,
///                confirm=true, payment_method_types[]=card, metadata[billpay_payment_id])
///   lookup       the same request with the same Idempotency-Key: Stripe answers with what it
///                did the first time (Idempotent-Replayed), or does it now, once (its documented
///                recovery); a stored 500 is asked of payment_intents/search
///   refund       POST /v1/refunds; void: POST /v1/payment_intents/{id}/cancel
///   delete_token POST /v1/payment_methods/{id}/detach (a saved card's; a bare pm_ is on no
///                Customer, and Stripe refuses to detach it: nothing to do)
class stripe_gateway final : public gateway {
  public:
    stripe_gateway(const config::stripe_settings& settings, boost::asio::any_io_executor executor);

    [[nodiscard]] std::string_view name() const noexcept override { return "stripe"; }
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
    boost::asio::awaitable<delete_result> delete_token(const std::string& token,
                                                       deadline by) override;
    /// A PaymentMethod that paid once without a Customer cannot pay again, nor be detached:
    /// there is nothing to forget (approved). One made for saving is detached.
    boost::asio::awaitable<delete_result> discard_token(const std::string& token,
                                                        deadline by) override;
    /// GET /v1/payment_methods/{id}: a PaymentMethod made by Stripe.js in the browser, charged
    /// as it is; attached to the account's Customer when it is to be saved. One already on a
    /// Customer is taken only if that Customer is the account's own (GET /v1/customers/{id},
    /// metadata billpay_customer); another's is declined with token_not_owned.
    boost::asio::awaitable<token_description> adopt_token(const browser_token& token,
                                                          const std::string& customer_reference,
                                                          token_use use, deadline by) override;

  private:
    /// Sets Authorization: Bearer <secret key>, with no plain copy of the key on the way.
    void authorize(https::client::request& req) const;
    /// GETs `target` (a read: sent again on a new connection if a dead one swallowed it).
    boost::asio::awaitable<https::result> get(const std::string& target, deadline by);
    /// The id of the account's Customer (found, or made once); empty when Stripe gave none.
    boost::asio::awaitable<std::string> customer_for(const std::string& customer_reference,
                                                     deadline by);
    /// The account pseudonym a Customer was made for (its metadata billpay_customer): "" for
    /// a Customer billpayd did not make, nullopt when Stripe could not be asked.
    boost::asio::awaitable<std::optional<std::string>> customer_reference_of(
        const std::string& customer, deadline by);
    /// Attaches a PaymentMethod to a Customer: approved, or why not.
    boost::asio::awaitable<outcome> attach(const std::string& payment_method,
                                           const std::string& customer, deadline by);
    /// POSTs a form to `path` under `idempotency_key` (empty: none), by the earlier of `by` and
    /// the configured timeout.
    boost::asio::awaitable<https::result> post(const std::string& path, https::client::request& req,
                                               const std::string& idempotency_key, deadline by);

    /// A refund or a void: POST, then Stripe's answer as a refund_result (`retry`: the key was
    /// sent before, so only Stripe's replayed answer may say "not refunded").
    boost::asio::awaitable<refund_result> reverse(const std::string& path,
                                                  https::client::request& req,
                                                  const std::string& key, bool retry, deadline by);
    /// POST /v1/payment_intents for a charge (and, under the same key, for its lookup).
    boost::asio::awaitable<https::result> send_charge(const charge_request& request, deadline by);
    /// A PaymentIntent answered 200, as a charge_result; nullopt for any other answer.
    static std::optional<charge_result> intent_outcome(const https::result& answer);
    /// A PaymentIntent found by search, as a charge_result; nullopt when its state settles
    /// nothing (processing, or one billpayd does not know).
    static std::optional<charge_result> searched_intent_outcome(const boost::json::value& intent);
    /// Whether a request first sent at `first_sent` (RFC 3339) may still be resent under its
    /// key: younger than `replay_window_ms`. An unreadable time is not.
    [[nodiscard]] bool within_replay_window(std::string_view first_sent) const;
    /// The charge as Stripe's PaymentIntent search shows it (by metadata billpay_payment_id);
    /// unknown when nothing settles it.
    boost::asio::awaitable<charge_result> search_charge(const charge_request& request, deadline by);
    /// The refund as Stripe's refund list for the PaymentIntent shows it (by metadata
    /// billpay_refund_id); unknown when it is not there.
    boost::asio::awaitable<refund_result> find_refund(const refund_request& request, deadline by);

    config::stripe_settings settings_;
    https::endpoint base_;
    https::client client_;
};

}  // namespace billpay::gateway::stripe
