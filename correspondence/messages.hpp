#pragma once

#include <optional>

#include "model/outbox_entry.hpp"
#include "model/payment.hpp"
#include "model/refund.hpp"

namespace billpay::correspondence {

/// The message a payment's state sends the correspondence system, rendered once (docs/
/// correspondence.md documents every field):
///   succeeded          -> payment_receipt
///   declined or failed -> payment_declined
///   pending            -> payment_pending (its receipt follows when the outcome is known)
/// {"id": "rcpt_…", "type", "created_at", "account_number", "customer": {"name", "email"},
///  "payment": {"id", "status", "confirmation", "amount", "currency", "bill_id",
///              "card": {"brand", "last4"}, "paid_at", "processor_reference", "decline_code"}}
/// Never a card number: only brand and last four. customer.email is where the notice goes: the
/// account's corrected email when the portal corrected it after the payment.
std::optional<model::outbox_entry> render_payment_message(const model::payment_record& payment);

/// The refund_receipt a succeeded refund sends: the payment's fields as above (its status now
/// partially_refunded or refunded, and "amount_refunded"), and
///  "refund": {"id", "amount", "currency", "kind" (refund | void), "reason", "refunded_at",
///             "processor_reference"}
model::outbox_entry render_refund_message(const model::payment_record& payment,
                                          const model::refund_record& refund);

}  // namespace billpay::correspondence
