#pragma once

#include <boost/asio/awaitable.hpp>
#include <variant>

#include "config/settings.hpp"
#include "daemon/api_clients.hpp"
#include "daemon/router.hpp"
#include "gateway_adapters/gateway.hpp"
#include "store/database.hpp"
#include "store/payment_records.hpp"
#include "tokenizer/card_checks.hpp"

namespace billpay::daemon {

/// The payments API: POST/GET /v1/payments, GET /v1/payments/{id}, and the saved cards under
/// /v1/payment_methods. It carries out DESIGN.md's "one payment, step by step": authenticate,
/// parse (card into locked memory), validate, claim the idempotency key, tokenize, record the
/// pending payment, charge, and record the outcome with its response in one transaction.
class payments_api {
  public:
    payments_api(const config::settings& settings, const api_clients& clients,
                 store::database& database, gateway::gateway& processor,
                 const tokenizer::fingerprinter& fingerprints);

    void add_routes(router& routes);

    /// The response a finished payment gets (201, 402, or 202 while pending); also what the
    /// recovery worker stores for a key whose request died with its process.
    static store::stored_response render_payment_response(const store::payment_record& payment,
                                                          std::string_view request_id);

    /// The processor charge for a payment. The recovery worker's lookup sends exactly the same
    /// request (processors compare a repeated idempotency key's parameters), so both build it
    /// here.
    static gateway::charge_request charge_request_for(const store::payment_record& payment);

    /// What is written with a payment's new state: the response its key replays, and its
    /// message for the correspondence system (transactional outbox).
    static store::state_writers state_writers_for(std::string request_id);

  private:
    boost::asio::awaitable<response> create_payment(request_context& ctx, request& req);
    boost::asio::awaitable<response> get_payment(request_context& ctx, request& req);
    boost::asio::awaitable<response> list_payments(request_context& ctx, request& req);
    boost::asio::awaitable<response> create_payment_method(request_context& ctx, request& req);
    boost::asio::awaitable<response> list_payment_methods(request_context& ctx, request& req);
    boost::asio::awaitable<response> delete_payment_method(request_context& ctx, request& req);

    [[nodiscard]] gateway::deadline processor_deadline() const;
    /// A card typed into the portal, checked (brand, length, Luhn, expiry, CVC: 400 naming the
    /// field otherwise): what billpayd keeps of it, and its keyed fingerprint for idempotency.
    struct checked_card {
        store::card_record record;
        std::string request_fingerprint;
    };
    [[nodiscard]] std::variant<checked_card, response> check_card(const tokenizer::card_data& card,
                                                                  const request_context& ctx) const;
    /// What billpayd keeps of a card tokenized in the browser, from the processor's description.
    [[nodiscard]] store::card_record card_from_token(
        const gateway::token_description& described) const;
    /// Gives an idempotency key back (nothing happened outside billpayd): best effort.
    boost::asio::awaitable<void> release_key(const std::string& client_id, const std::string& key);
    /// Stores the response a key replays, for a request that ended without a payment row.
    boost::asio::awaitable<void> record_response(const std::string& client_id,
                                                 const std::string& key, const response& res,
                                                 const request_context& ctx);

    const config::settings& settings_;
    const api_clients& clients_;
    store::database& database_;
    gateway::gateway& processor_;
    const tokenizer::fingerprinter& fingerprints_;
};

}  // namespace billpay::daemon
