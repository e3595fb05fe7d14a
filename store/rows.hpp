#pragma once

#include <pqxx/row>

#include "store/payment_methods.hpp"
#include "store/payment_records.hpp"

namespace billpay::store {

// How the store's rows are read, shared by the repositories and the prepared statements
// (store/statements.cpp). Timestamps come back as RFC 3339 UTC with milliseconds, the form
// model::rfc3339_utc writes.

/// Every column of `payments` in the order read_payment expects.
inline constexpr const char* payment_columns =
    "id, client_id, account_number, bill_id, amount, amount_refunded, currency, status,"
    " confirmation, card_brand, card_last4, card_exp_month, card_exp_year, card_fingerprint,"
    " payment_method_id, processor, processor_token, processor_reference, decline_code,"
    " failure_message, customer_name, customer_email, metadata::text, recovery_attempts,"
    " needs_review, token_owned,"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
payment_record read_payment(const pqxx::row& row);

/// Every column of `payment_methods` in the order read_method expects.
inline constexpr const char* method_columns =
    "id, client_id, account_number, processor, processor_token, card_brand, card_last4,"
    " card_exp_month, card_exp_year, card_fingerprint,"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
payment_method_record read_method(const pqxx::row& row);

}  // namespace billpay::store
