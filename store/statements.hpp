#pragma once

#include <pqxx/connection>
#include <string>
#include <vector>

namespace billpay::store::statements {

// The statements on a payment's path, prepared once per connection (PostgreSQL parses and
// plans each once, not on every payment). Use them as exec_prepared(prepared(conn, name), ...).
inline constexpr const char* claim_key = "billpay_claim_key";
inline constexpr const char* open_payment = "billpay_open";
inline constexpr const char* finish_payment = "billpay_finish";
inline constexpr const char* find_payment = "billpay_find_payment";
inline constexpr const char* find_payment_method = "billpay_find_payment_method";
inline constexpr const char* claim_messages = "billpay_claim_messages";
inline constexpr const char* record_attempts = "billpay_record_attempts";

/// Defines statement `name` on `conn` unless it is already (libpqxx then prepares it on the
/// server at its first use, once per connection) and returns `name`.
const char* prepared(pqxx::connection& conn, const char* name);

/// A PostgreSQL array literal of texts ({"a","b\"c",NULL}), for an array parameter.
std::string text_array(const std::vector<std::string>& items);
/// The same for integers; a negative value stands for NULL.
std::string integer_array(const std::vector<long long>& items, bool negative_is_null = false);

}  // namespace billpay::store::statements
