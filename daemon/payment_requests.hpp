#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/api_error.hpp"
#include "model/bill.hpp"
#include "model/payment.hpp"
#include "model/payment_method.hpp"
#include "payments/autopay.hpp"
#include "payments/bills.hpp"
#include "payments/requests.hpp"
#include "payments/scheduled_payments.hpp"
#include "tokenizer/card_data.hpp"

namespace billpay::daemon {

/// Parses a JSON body that may carry card data: the body is parsed into wiped memory and the
/// card's fields go straight into tokenizer::card_data. Strict: unknown fields, wrong types,
/// non-integer or out-of-range amounts, control characters and invalid UTF-8 are errors naming
/// the field; no message repeats what was sent.
/// POST /v1/payments into the use case's own request (not yet held to the utility's rules:
/// payment_service::check), and POST /v1/payment_methods into its.
boost::system::result<payments::pay_request, api_error> parse_payment_request(
    std::string_view body);
boost::system::result<payments::save_card_request, api_error> parse_payment_method_request(
    std::string_view body);

/// POST /v1/scheduled_payments: {"account_number", "bill_id"?, "amount", "currency",
/// "payment_method", "pay_on", "customer": {"name", "email"}}, strictly. Not yet held to the
/// utility's rules: payments::scheduled_payments::check.
boost::system::result<payments::schedule_request, api_error> parse_schedule_request(
    std::string_view body);

/// {"id": "sch_…", "object": "scheduled_payment", "account_number", "bill_id", "amount",
/// "currency", "payment_method", "pay_on", "status", "payment", "created"}.
boost::json::object scheduled_payment_json(const model::scheduled_payment_record& payment);

/// POST /v1/bills: {"account_number", "bill_id", "amount_due", "currency", "due_date"}, all
/// required, strictly (the bill's own grammar: a bill id is 1-64 of A-Z a-z 0-9 - _ . /, a due
/// date a real YYYY-MM-DD). Not yet held to the utility's rules: payments::bills::check.
boost::system::result<payments::bill_request, api_error> parse_bill_request(std::string_view body);

/// The JSON a client sees of a bill: {"object": "bill", "account_number", "bill_id",
/// "amount_due", "currency", "due_date", "status": "unpaid"|"paid", "payment": id|null,
/// "created"}.
boost::json::object bill_json(const model::bill_record& bill);

/// PUT /v1/accounts/{account_number}/autopay: {"payment_method" (required), "days_before_due"
/// (0-10, default 0), "max_amount" (minor units, optional)}, strictly. `account_number` is the
/// path's.
boost::system::result<payments::autopay_request, api_error> parse_autopay_request(
    std::string_view body);

/// {"object": "autopay", "account_number", "payment_method", "days_before_due", "max_amount":
/// n | null, "created", "updated"}.
boost::json::object autopay_json(const model::autopay_enrollment& enrollment);

/// PATCH /v1/accounts/{account_number}: {"email"}, strictly.
struct account_update {
    std::string email;
};
boost::system::result<account_update, api_error> parse_account_update(std::string_view body);

/// Account numbers: 1-32 of A-Z a-z 0-9 and '-'. The portal names one on every read.
bool valid_account_number(std::string_view text);

/// 400 parameter_invalid (param account_number) for an account number in a path that is not one.
std::optional<api_error> account_number_refusal(const std::string& account_number);

/// "2026-11-26" or an RFC 3339 time, checked for form before PostgreSQL reads it.
bool valid_time(std::string_view text);

/// The JSON a client sees of a payment (DESIGN.md's payment object).
boost::json::object payment_json(const model::payment_record& payment);

/// The JSON a client sees of a saved card.
boost::json::object payment_method_json(const model::payment_method_record& method);

/// SHA-256 (hex) over what identifies a payment request for idempotency: every field, with the
/// card given by its keyed request fingerprint instead of its data.
std::string request_fingerprint(const payments::pay_request& request,
                                std::string_view card_fingerprint);

}  // namespace billpay::daemon
