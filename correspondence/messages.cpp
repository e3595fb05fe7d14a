#include "correspondence/messages.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <ctime>

#include "logging/log.hpp"
#include "model/ids.hpp"
#include "model/scheduled_payment.hpp"
#include "model/time.hpp"

namespace billpay::correspondence {
namespace {

namespace json = boost::json;

json::value or_null(const std::optional<std::string>& v) {
    return v ? json::value(*v) : json::value(nullptr);
}

json::object payment_fields(const model::payment_record& p) {
    using model::payment_status;
    return json::object{
        {"id", p.id},
        {"status", model::to_string(p.status)},
        {"confirmation", p.confirmation},
        {"amount", p.amount.minor_units},
        {"currency", p.amount.unit.code()},
        {"bill_id", or_null(p.bill_id)},
        {"card", json::object{{"brand", p.card.brand}, {"last4", p.card.last4}}},
        {"paid_at",
         p.status == payment_status::succeeded ? json::value(p.updated_at) : json::value(nullptr)},
        {"created_at", p.created_at},
        {"processor_reference", or_null(p.processor_reference)},
        {"decline_code", or_null(p.decline_code)},
        {"origin", model::to_string(model::origin_of_client(p.client_id))}};
}

/// The customer as a notice names them: the address is the account's correction when one was
/// made after the payment (model::payment_record::notify_email), the payment's own otherwise.
json::object customer_fields(const model::payment_record& p) {
    return json::object{{"name", p.customer_name},
                        {"email", p.notify_email.empty() ? p.customer_email : p.notify_email}};
}

}  // namespace

std::optional<model::outbox_entry> render_payment_message(const model::payment_record& p) {
    using model::payment_status;
    std::string type;
    switch (p.status) {
        case payment_status::succeeded:
            type = "payment_receipt";
            break;
        case payment_status::declined:
        case payment_status::failed:
            type = "payment_declined";
            break;
        case payment_status::pending:
            type = "payment_pending";
            break;
        default:
            return std::nullopt;  // refunds send refund_receipt through the refund's own path
    }
    auto id = model::new_id("rcpt");
    json::object message{{"id", id},
                         {"type", type},
                         {"created_at", model::rfc3339_utc(std::chrono::system_clock::now())},
                         {"account_number", p.account_number},
                         {"customer", customer_fields(p)},
                         {"payment", payment_fields(p)}};
    return model::outbox_entry{id, type, json::serialize(message)};
}

model::outbox_entry render_refund_message(const model::payment_record& p,
                                          const model::refund_record& r) {
    auto id = model::new_id("rcpt");
    auto payment = payment_fields(p);
    payment["amount_refunded"] = p.amount_refunded;
    json::object message{
        {"id", id},
        {"type", "refund_receipt"},
        {"created_at", model::rfc3339_utc(std::chrono::system_clock::now())},
        {"account_number", p.account_number},
        {"customer", customer_fields(p)},
        {"payment", std::move(payment)},
        {"refund", json::object{{"id", r.id},
                                {"amount", r.amount.minor_units},
                                {"currency", r.amount.unit.code()},
                                {"kind", or_null(r.kind)},
                                {"reason", r.reason},
                                {"refunded_at", r.updated_at},
                                {"processor_reference", or_null(r.processor_reference)}}}};
    return model::outbox_entry{id, "refund_receipt", json::serialize(message)};
}

}  // namespace billpay::correspondence
