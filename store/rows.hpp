#pragma once

#include <pqxx/row>

#include "store/payment_methods.hpp"
#include "store/payment_records.hpp"
#include "store/refunds.hpp"

namespace billpay::store {

// How the store's rows are read, shared by the repositories and the prepared statements
// (store/statements.cpp). Timestamps come back as RFC 3339 UTC with milliseconds, the form
// model::rfc3339_utc writes.

/// Every column of `payments` in the order read_payment expects.
inline constexpr const char* payment_columns =
    "id, client_id, account_number, bill_id, amount, amount_refunded, currency, status,"
    " confirmation, card_brand, card_last4, coalesce(card_exp_month, 0),"
    " coalesce(card_exp_year, 0), coalesce(card_fingerprint, ''),"
    " payment_method_id, processor, processor_token, processor_reference, decline_code,"
    " failure_message, coalesce(customer_name, ''), coalesce(customer_email, ''),"
    " metadata::text, recovery_attempts, needs_review, token_owned,"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " reduced_at IS NOT NULL,"
    // The address the payment's later notices go to: the account's correction, if made since.
    " coalesce((SELECT c.email FROM account_contacts c"
    "            WHERE c.account_number = payments.account_number"
    "              AND c.updated_at > payments.created_at), customer_email, '')";
payment_record read_payment(const pqxx::row& row);

/// Every column of `payment_methods` in the order read_method expects.
inline constexpr const char* method_columns =
    "id, client_id, account_number, processor, coalesce(processor_token, ''), card_brand, "
    "card_last4,"
    " coalesce(card_exp_month, 0), coalesce(card_exp_year, 0), coalesce(card_fingerprint, ''),"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
payment_method_record read_method(const pqxx::row& row);

/// Every column of `refunds` in the order read_refund expects.
inline constexpr const char* refund_columns =
    "id, payment_id, amount, currency, status, kind, reason, requested_by, processor_reference,"
    " failure_code, failure_message, attempts, needs_review,"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
refund_record read_refund(const pqxx::row& row);

}  // namespace billpay::store
