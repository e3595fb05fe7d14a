#pragma once

#include <optional>
#include <string>

#include "model/autopay.hpp"
#include "model/bill.hpp"
#include "model/outbox_entry.hpp"
#include "model/scheduled_payment.hpp"

namespace billpay::correspondence {

/// The card a notice names: brand and last four, never more.
struct card_named {
    std::string brand;
    std::string last4;
};

// Notices about an account's AutoPay and scheduled payments (docs/correspondence.md documents
// every field). Each is {"id": "rcpt_…", "type", "created_at", "account_number",
// "customer": {"name", "email"}, …} like a receipt, and carries what happened and what the
// customer can do, in `reason` (a stable code) and `message` (plain words).

/// autopay_upcoming: AutoPay will pay `bill` on `charge_on` from `card`.
model::outbox_entry render_autopay_upcoming(const model::bill_record& bill,
                                            const model::autopay_enrollment& enrollment,
                                            const std::string& charge_on, const card_named& card);

/// autopay_card_expiring: the card AutoPay pays from expires at the end of its month.
model::outbox_entry render_autopay_card_expiring(const model::autopay_enrollment& enrollment,
                                                 const card_named& card, int exp_month,
                                                 int exp_year);

/// autopay_ended: AutoPay ended because its card was removed (reason "card_removed").
model::outbox_entry render_autopay_ended(const model::autopay_enrollment& enrollment,
                                         const card_named& card);

/// Why a scheduled payment (or an AutoPay charge) was not made.
enum class schedule_failure {
    declined,            // the card was declined (and retries, if any, were declined too)
    card_expired,        // the card will have expired by the day
    over_autopay_limit,  // AutoPay: the bill is above the customer's max_amount
    card_removed,        // the card was deleted before the day
    card_unusable,       // saved with a processor the utility no longer uses
};

[[nodiscard]] std::string_view to_string(schedule_failure why) noexcept;

/// scheduled_payment_failed: `payment` was not charged on its day, and why. `payment_id` and
/// `decline_code` when a charge was made and declined.
model::outbox_entry render_scheduled_payment_failed(const model::scheduled_payment_record& payment,
                                                    schedule_failure why, const card_named& card,
                                                    const std::optional<std::string>& payment_id,
                                                    const std::optional<std::string>& decline_code);

}  // namespace billpay::correspondence
