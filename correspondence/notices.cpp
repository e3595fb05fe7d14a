#include "correspondence/notices.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>

#include "model/ids.hpp"
#include "model/money.hpp"
#include "model/time.hpp"

namespace billpay::correspondence {
namespace {

namespace json = boost::json;

json::value or_null(const std::optional<std::string>& v) {
    return v ? json::value(*v) : json::value(nullptr);
}

json::object card_fields(const card_named& card) {
    return json::object{{"brand", card.brand}, {"last4", card.last4}};
}

/// The envelope every notice shares, with `fields` added.
model::outbox_entry notice(const std::string& type, const std::string& account_number,
                           const std::string& name, const std::string& email, json::object fields) {
    auto id = model::new_id("rcpt");
    json::object message{{"id", id},
                         {"type", type},
                         {"created_at", model::rfc3339_utc(std::chrono::system_clock::now())},
                         {"account_number", account_number},
                         {"customer", json::object{{"name", name}, {"email", email}}}};
    for (auto& [key, value] : fields) {
        message[key] = std::move(value);
    }
    return model::outbox_entry{id, type, json::serialize(message)};
}

std::string amount_text(const model::money& m) {
    return model::to_decimal(m) + " " + std::string(m.unit.code());
}

std::string card_text(const card_named& card) { return card.brand + " ending " + card.last4; }

}  // namespace

model::outbox_entry render_autopay_upcoming(const model::bill_record& bill,
                                            const model::autopay_enrollment& e,
                                            const std::string& charge_on, const card_named& card) {
    return notice("autopay_upcoming", e.account_number, e.customer_name, e.customer_email,
                  json::object{{"autopay", json::object{{"bill_id", bill.bill_id},
                                                        {"amount", bill.amount_due.minor_units},
                                                        {"currency", bill.amount_due.unit.code()},
                                                        {"due_date", bill.due_date},
                                                        {"charge_on", charge_on},
                                                        {"card", card_fields(card)}}},
                               {"message", "AutoPay will pay bill " + bill.bill_id + ", " +
                                               amount_text(bill.amount_due) + ", on " + charge_on +
                                               " from your " + card_text(card) +
                                               ". To pay another way, end AutoPay before then."}});
}

model::outbox_entry render_autopay_card_expiring(const model::autopay_enrollment& e,
                                                 const card_named& card, int exp_month,
                                                 int exp_year) {
    char expiry[16];
    std::snprintf(expiry, sizeof expiry, "%02d/%04d", exp_month, exp_year);
    return notice(
        "autopay_card_expiring", e.account_number, e.customer_name, e.customer_email,
        json::object{{"autopay", json::object{{"card", card_fields(card)},
                                              {"exp_month", exp_month},
                                              {"exp_year", exp_year}}},
                     {"message", "The " + card_text(card) +
                                     " that AutoPay pays your bills from expires " + expiry +
                                     ". Save your new card and choose it for AutoPay, "
                                     "or your bills will not be paid automatically."}});
}

model::outbox_entry render_autopay_ended(const model::autopay_enrollment& e,
                                         const card_named& card) {
    return notice("autopay_ended", e.account_number, e.customer_name, e.customer_email,
                  json::object{{"autopay", json::object{{"card", card_fields(card)}}},
                               {"reason", "card_removed"},
                               {"message", "AutoPay has ended because the " + card_text(card) +
                                               " it paid from was removed. Your bills will not "
                                               "be paid automatically until you enroll again "
                                               "with another card."}});
}

std::string_view to_string(schedule_failure why) noexcept {
    switch (why) {
        case schedule_failure::declined:
            return "declined";
        case schedule_failure::card_expired:
            return "card_expired";
        case schedule_failure::over_autopay_limit:
            return "over_autopay_limit";
        case schedule_failure::card_removed:
            return "card_removed";
        case schedule_failure::card_unusable:
            return "card_unusable";
    }
    return "declined";
}

model::outbox_entry render_scheduled_payment_failed(
    const model::scheduled_payment_record& p, schedule_failure why, const card_named& card,
    const std::optional<std::string>& payment_id, const std::optional<std::string>& decline_code) {
    const bool autopay = p.origin == model::payment_origin::autopay;
    const std::string what = (autopay ? "AutoPay could not pay bill " + p.bill_id.value_or("")
                                      : std::string("Your payment scheduled for ") + p.pay_on) +
                             " (" + amount_text(p.amount) + ")";
    std::string message;
    switch (why) {
        case schedule_failure::declined:
            message = what + ": your " + card_text(card) +
                      " was declined. Nothing was charged. Please pay the bill another way, or "
                      "use another card.";
            break;
        case schedule_failure::card_expired:
            message = what + ": your " + card_text(card) +
                      " has expired. Nothing was charged. Save your new card and pay the bill.";
            break;
        case schedule_failure::over_autopay_limit:
            message = what +
                      ": the bill is above the limit you set for AutoPay. Nothing was "
                      "charged. Please pay this bill yourself, or raise the limit.";
            break;
        case schedule_failure::card_removed:
            message = what +
                      ": the card it was to be paid from was removed. Nothing was "
                      "charged. Please pay the bill another way.";
            break;
        case schedule_failure::card_unusable:
            message = what +
                      ": the card can no longer be charged. Nothing was charged. Please "
                      "save the card again and pay the bill.";
            break;
    }
    return notice(
        "scheduled_payment_failed", p.account_number, p.customer_name, p.customer_email,
        json::object{{"scheduled_payment", json::object{{"id", p.id},
                                                        {"origin", model::to_string(p.origin)},
                                                        {"bill_id", or_null(p.bill_id)},
                                                        {"amount", p.amount.minor_units},
                                                        {"currency", p.amount.unit.code()},
                                                        {"pay_on", p.pay_on},
                                                        {"attempts", p.attempts},
                                                        {"card", card_fields(card)},
                                                        {"payment", or_null(payment_id)},
                                                        {"decline_code", or_null(decline_code)}}},
                     {"reason", to_string(why)},
                     {"message", message}});
}

}  // namespace billpay::correspondence
