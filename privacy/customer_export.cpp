#include "privacy/customer_export.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>

#include "model/status.hpp"
#include "model/text.hpp"

namespace billpay::privacy {
namespace {

namespace json = boost::json;

json::value or_null(const std::optional<std::string>& v) {
    return v ? json::value(*v) : json::value(nullptr);
}

json::value text_or_null(const std::string& v) {
    return v.empty() ? json::value(nullptr) : json::value(v);
}

json::value expiry(int month, int year) {
    if (month == 0 || year == 0) {
        return nullptr;  // removed: a deleted card's, a reduced payment's
    }
    char text[8];
    std::snprintf(text, sizeof text, "%02d/%04d", month, year);
    return json::value(text);
}

json::object payment_json(const model::payment_record& p) {
    json::error_code ec;
    auto metadata = json::parse(p.metadata_json, ec);
    return json::object{
        {"id", p.id},
        {"created_at", p.created_at},
        {"updated_at", p.updated_at},
        {"status", model::to_string(p.status)},
        {"amount", p.amount.minor_units},
        {"amount_refunded", p.amount_refunded},
        {"currency", p.amount.unit.code()},
        {"bill_id", or_null(p.bill_id)},
        {"confirmation", p.confirmation},
        {"card", json::object{{"brand", p.card.brand},
                              {"last4", p.card.last4},
                              {"expiry", expiry(p.card.exp_month, p.card.exp_year)}}},
        {"payment_method", or_null(p.payment_method_id)},
        {"customer", json::object{{"name", text_or_null(p.customer_name)},
                                  {"email", text_or_null(p.customer_email)}}},
        {"metadata", ec ? json::value(json::object()) : metadata},
        {"processor", p.processor},
        {"processor_reference", or_null(p.processor_reference)},
        {"decline_code", or_null(p.decline_code)},
        {"reduced", p.reduced}};
}

}  // namespace

json::object export_json(const store::account_data& data, const std::string& exported_at) {
    json::array payments;
    for (const auto& p : data.payments) {
        payments.push_back(payment_json(p));
    }
    json::array refunds;
    for (const auto& r : data.refunds) {
        refunds.push_back(json::object{{"id", r.id},
                                       {"payment", r.payment_id},
                                       {"created_at", r.created_at},
                                       {"status", model::to_string(r.status)},
                                       {"kind", or_null(r.kind)},
                                       {"amount", r.amount.minor_units},
                                       {"currency", r.amount.unit.code()},
                                       {"reason", text_or_null(r.reason)},
                                       {"processor_reference", or_null(r.processor_reference)}});
    }
    json::array methods;
    for (const auto& m : data.payment_methods) {
        methods.push_back(json::object{
            {"id", m.method.id},
            {"created_at", m.method.created_at},
            {"card",
             json::object{{"brand", m.method.card.brand},
                          {"last4", m.method.card.last4},
                          {"expiry", expiry(m.method.card.exp_month, m.method.card.exp_year)}}},
            {"processor", m.method.processor},
            {"deleted", m.deleted_at.has_value()},
            {"deleted_at", or_null(m.deleted_at)}});
    }
    json::array messages;
    for (const auto& m : data.messages) {
        messages.push_back(json::object{{"id", m.id},
                                        {"type", m.type},
                                        {"status", m.status},
                                        {"created_at", m.created_at},
                                        {"delivered_at", or_null(m.delivered_at)}});
    }
    json::array bills;
    for (const auto& b : data.bills) {
        bills.push_back(json::object{{"bill_id", b.bill_id},
                                     {"amount_due", b.amount_due.minor_units},
                                     {"currency", b.amount_due.unit.code()},
                                     {"due_date", b.due_date},
                                     {"created_at", b.created_at},
                                     {"status", b.paid_by ? "paid" : "unpaid"},
                                     {"payment", or_null(b.paid_by)}});
    }
    json::array scheduled;
    for (const auto& p : data.scheduled_payments) {
        scheduled.push_back(json::object{{"id", p.id},
                                         {"created_at", p.created_at},
                                         {"pay_on", p.pay_on},
                                         {"status", model::to_string(p.status)},
                                         {"amount", p.amount.minor_units},
                                         {"currency", p.amount.unit.code()},
                                         {"payment_method", p.payment_method_id},
                                         {"bill_id", or_null(p.bill_id)},
                                         {"payment", or_null(p.payment_id)},
                                         {"origin", model::to_string(p.origin)},
                                         {"customer_name", text_or_null(p.customer_name)},
                                         {"customer_email", text_or_null(p.customer_email)}});
    }
    json::array audit;
    for (const auto& a : data.audit) {
        audit.push_back(json::object{{"id", a.id},
                                     {"at", a.at},
                                     {"actor", a.entry.actor},
                                     {"action", a.entry.action},
                                     {"records", a.entry.records},
                                     {"reason", a.entry.reason}});
    }
    json::value contact = nullptr;
    if (data.contact_email) {
        contact = json::object{{"email", *data.contact_email},
                               {"updated_at", or_null(data.contact_updated_at)}};
    }
    return json::object{
        {"object", "customer_export"},
        {"account_number", data.account_number},
        {"exported_at", exported_at},
        {"contact", std::move(contact)},
        {"payments", std::move(payments)},
        {"refunds", std::move(refunds)},
        {"payment_methods", std::move(methods)},
        {"messages", std::move(messages)},
        {"bills", std::move(bills)},
        {"scheduled_payments", std::move(scheduled)},
        {"autopay", data.autopay ? json::value(json::object{
                                       {"payment_method", data.autopay->payment_method_id},
                                       {"days_before_due", data.autopay->days_before_due},
                                       {"max_amount", data.autopay->max_amount
                                                          ? json::value(*data.autopay->max_amount)
                                                          : json::value()},
                                       {"customer_name", data.autopay->customer_name},
                                       {"customer_email", data.autopay->customer_email},
                                       {"created_at", data.autopay->created_at},
                                       {"updated_at", data.autopay->updated_at}})
                                 : json::value()},
        {"audit", std::move(audit)}};
}

std::string export_csv(const store::account_data& data, const std::string& exported_at) {
    std::string out =
        "record,id,related_id,created_at,status,amount,currency,card_brand,card_last4,"
        "card_expiry,detail\n";
    auto row = [&out](std::initializer_list<std::string> fields) {
        bool first = true;
        for (const auto& f : fields) {
            out += first ? "" : ",";
            out += model::csv_field(f);
            first = false;
        }
        out += '\n';
    };
    auto expiry_text = [](int month, int year) {
        auto v = expiry(month, year);
        return v.is_string() ? std::string(v.as_string()) : std::string();
    };
    row({"export", data.account_number, "", exported_at, "", "", "", "", "", "",
         data.contact_email ? "contact_email=" + *data.contact_email : ""});
    for (const auto& p : data.payments) {
        row({"payment", p.id, p.payment_method_id.value_or(""), p.created_at,
             std::string(model::to_string(p.status)), std::to_string(p.amount.minor_units),
             std::string(p.amount.unit.code()), p.card.brand, p.card.last4,
             expiry_text(p.card.exp_month, p.card.exp_year),
             "name=" + p.customer_name + "; email=" + p.customer_email +
                 "; bill_id=" + p.bill_id.value_or("") + "; confirmation=" + p.confirmation +
                 "; refunded=" + std::to_string(p.amount_refunded) +
                 "; metadata=" + p.metadata_json + (p.reduced ? "; reduced" : "")});
    }
    for (const auto& r : data.refunds) {
        row({"refund", r.id, r.payment_id, r.created_at, std::string(model::to_string(r.status)),
             std::to_string(r.amount.minor_units), std::string(r.amount.unit.code()), "", "", "",
             "kind=" + r.kind.value_or("") + "; reason=" + r.reason});
    }
    for (const auto& m : data.payment_methods) {
        row({"payment_method", m.method.id, "", m.method.created_at,
             m.deleted_at ? "deleted" : "saved", "", "", m.method.card.brand, m.method.card.last4,
             expiry_text(m.method.card.exp_month, m.method.card.exp_year),
             m.deleted_at ? "deleted_at=" + *m.deleted_at : ""});
    }
    for (const auto& m : data.messages) {
        row({"message", m.id, "", m.created_at, m.status, "", "", "", "", "",
             "type=" + m.type + "; delivered_at=" + m.delivered_at.value_or("")});
    }
    for (const auto& b : data.bills) {
        row({"bill", b.bill_id, b.paid_by.value_or(""), b.created_at, b.paid_by ? "paid" : "unpaid",
             std::to_string(b.amount_due.minor_units), std::string(b.amount_due.unit.code()), "",
             "", "", "due_date=" + b.due_date});
    }
    for (const auto& p : data.scheduled_payments) {
        row({"scheduled_payment", p.id, p.payment_id.value_or(""), p.created_at,
             std::string(model::to_string(p.status)), std::to_string(p.amount.minor_units),
             std::string(p.amount.unit.code()), "", "", "",
             "origin=" + std::string(model::to_string(p.origin)) + "; pay_on=" + p.pay_on +
                 "; payment_method=" + p.payment_method_id + "; bill_id=" + p.bill_id.value_or("") +
                 "; name=" + p.customer_name + "; email=" + p.customer_email});
    }
    if (const auto& e = data.autopay) {
        row({"autopay", e->account_number, e->payment_method_id, e->created_at, "enrolled",
             e->max_amount ? std::to_string(*e->max_amount) : "", "", "", "", "",
             "days_before_due=" + std::to_string(e->days_before_due) + "; updated_at=" +
                 e->updated_at + "; name=" + e->customer_name + "; email=" + e->customer_email});
    }
    for (const auto& a : data.audit) {
        row({"audit", std::to_string(a.id), a.entry.records, a.at, a.entry.action, "", "", "", "",
             "", "actor=" + a.entry.actor + "; reason=" + a.entry.reason});
    }
    return out;
}

}  // namespace billpay::privacy
