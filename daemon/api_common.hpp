#pragma once

#include <boost/asio/awaitable.hpp>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

#include "config/settings.hpp"
#include "daemon/api_clients.hpp"
#include "daemon/http_types.hpp"
#include "daemon/payment_requests.hpp"
#include "store/audit.hpp"
#include "store/database.hpp"
#include "store/idempotency_keys.hpp"

namespace billpay::daemon {

// What every API handler does first or last, shared by the payments and finance APIs.

/// A stored (idempotent) response as an HTTP response, and back.
response from_stored(const store::stored_response& stored);
store::stored_response to_stored(const response& res);

/// 400 invalid_request_error naming the field.
response bad_request(const request_context& ctx, const field_error& e);

/// 503 database_unavailable, saying what was not done ("nothing was charged").
response unavailable(const request_context& ctx,
                     std::string_view nothing_done = "nothing was charged");

/// Authenticates and checks the role; returns the client or the refusal.
std::variant<api_client, response> caller(const api_clients& clients, const request& req,
                                          const request_context& ctx,
                                          std::initializer_list<config::client_role> roles);

/// The Idempotency-Key header: 1-255 visible ASCII characters.
std::variant<std::string, response> idempotency_key(const request& req, const request_context& ctx);

/// The answer to a key that could not be claimed: the stored response replayed, 409 in flight,
/// 422 reused for another request, 409 possible duplicate payment.
response claim_refusal(const store::claim_result& claim, const request_context& ctx);

/// A card_error or api_error with an optional decline code.
response card_refused(http::status status, error_type type, std::string_view code,
                      std::string_view decline_code, std::string_view message,
                      const request_context& ctx);

/// "2026-11-26" or an RFC 3339 time, checked for form before PostgreSQL reads it.
bool valid_time(std::string_view text);

/// Gives an idempotency key back (nothing happened outside billpayd): best effort.
boost::asio::awaitable<void> release_key(store::database& database, const std::string& client_id,
                                         const std::string& key);

/// Stores the response a key replays, for a request that ended without a row of its own.
boost::asio::awaitable<void> record_response(store::database& database,
                                             const std::string& client_id, const std::string& key,
                                             const response& res, const request_context& ctx);

/// Where a request came from, for the audit trail: the peer's IP address.
std::string source_of(const request_context& ctx);

/// Appends to the audit trail in a transaction of its own; false when it could not (the caller
/// then refuses what it was about to show or do: nothing unaudited).
boost::asio::awaitable<bool> audit(store::database& database, const store::audit_entry& entry);

}  // namespace billpay::daemon
