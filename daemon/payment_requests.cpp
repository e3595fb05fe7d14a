#include "daemon/payment_requests.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdint>
#include <limits>
#include <set>

#include "model/digest.hpp"
#include "model/text.hpp"
#include "model/time.hpp"
#include "tokenizer/card_number_search.hpp"
#include "tokenizer/wiping_json.hpp"

namespace billpay::daemon {
namespace {

namespace json = boost::json;

api_error missing(std::string param) {
    std::string message = "The field " + param + " is required.";
    return invalid_request(std::move(param), "parameter_missing", std::move(message));
}
api_error invalid(std::string param, std::string message) {
    return invalid_request(std::move(param), "parameter_invalid", std::move(message));
}

bool has_control_characters(std::string_view text) { return !model::is_plain_text(text); }

/// A free-text field that holds what looks like a card number is refused, whatever the field:
/// card data goes only into card.number, where it is handled as card data.
api_error card_number_in(std::string param) {
    std::string message = "The field " + param +
                          " looks like it holds a card number. Card numbers belong in "
                          "card.number only.";
    return invalid_request(std::move(param), "card_number_in_text", std::move(message));
}

/// Every key of `object` must be in `allowed`.
std::optional<api_error> check_keys(const json::object& object, std::string_view prefix,
                                    std::initializer_list<std::string_view> allowed) {
    for (const auto& entry : object) {
        std::string_view key = entry.key();
        if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
            std::string param = std::string(prefix) + std::string(key);
            // The key is named back only when it is a plain name: a key can hold anything a
            // client sent, a card number too (found by fuzzing), and refusals are logged.
            const bool plain = std::all_of(key.begin(), key.end(), [](char c) {
                return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_' || c == '-' || c == '.';
            });
            if (!plain || param.size() > 64 || tokenizer::contains_card_number(key)) {
                param = std::string(prefix) + "(unknown)";
            }
            return invalid_request(param, "parameter_unknown",
                                   "The field " + param + " is not part of this request.");
        }
    }
    return std::nullopt;
}

/// What a string field holds, which decides whether it is searched for card numbers.
enum class text_kind {
    /// Anything a person may type (a name, an email address, a metadata value): a card number
    /// pasted into it is refused (card_number_in_text).
    free_text,
    /// A value with a grammar of its own (an account number, a bill id, a saved card's or a
    /// processor's id), checked against that grammar by the caller. Not searched: a bill id is
    /// often a long run of digits, and about one 16-digit number in ten passes the Luhn check.
    /// No card field is read from it, and the log's scrubber still masks it in log lines.
    identifier,
};

/// A string field: required or not, at most `max_length` bytes, no control characters.
boost::system::result<std::optional<std::string>, api_error> string_field(
    const json::object& object, std::string_view key, std::string param, bool required,
    std::size_t max_length, text_kind kind) {
    auto it = object.find(key);
    if (it == object.end() || it->value().is_null()) {
        if (required) {
            return missing(param);
        }
        return std::optional<std::string>();
    }
    if (!it->value().is_string()) {
        return invalid(param, "The field " + param + " must be a string.");
    }
    const auto& text = it->value().get_string();
    if (text.empty() || text.size() > max_length) {
        return invalid(param, "The field " + param + " must be 1 to " + std::to_string(max_length) +
                                  " characters.");
    }
    if (has_control_characters(text)) {
        return invalid(param, "The field " + param +
                                  " must not contain control, direction-changing or "
                                  "line-separating characters.");
    }
    if (kind == text_kind::free_text && tokenizer::contains_card_number(text)) {
        return card_number_in(std::move(param));
    }
    return std::optional<std::string>(std::string(text));
}

/// `processor_token`: a string (Stripe.js: pm_…) or Accept.js's opaqueData as
/// {"data_descriptor", "data_value"}.
boost::system::result<std::optional<gateway::browser_token>, api_error> browser_token_field(
    const json::object& object) {
    auto it = object.find("processor_token");
    if (it == object.end() || it->value().is_null()) {
        return std::optional<gateway::browser_token>();
    }
    gateway::browser_token token;
    if (it->value().is_string()) {
        auto id = string_field(object, "processor_token", "processor_token", true, 255,
                               text_kind::identifier);
        if (!id) {
            return id.error();
        }
        token.id = **id;
        return std::optional<gateway::browser_token>(std::move(token));
    }
    if (!it->value().is_object()) {
        return invalid("processor_token",
                       "The field processor_token must be a string (Stripe.js) or an object "
                       "with data_descriptor and data_value (Accept.js opaqueData).");
    }
    const auto& opaque = it->value().get_object();
    if (auto e = check_keys(opaque, "processor_token.", {"data_descriptor", "data_value"})) {
        return *e;
    }
    auto descriptor = string_field(opaque, "data_descriptor", "processor_token.data_descriptor",
                                   true, 128, text_kind::identifier);
    if (!descriptor) {
        return descriptor.error();
    }
    auto value = string_field(opaque, "data_value", "processor_token.data_value", true, 8192,
                              text_kind::identifier);
    if (!value) {
        return value.error();
    }
    token.descriptor = **descriptor;
    token.value = **value;
    return std::optional<gateway::browser_token>(std::move(token));
}

boost::system::result<std::optional<std::int64_t>, api_error> integer_field(
    const json::object& object, std::string_view key, std::string param, bool required) {
    auto it = object.find(key);
    if (it == object.end() || it->value().is_null()) {
        if (required) {
            return missing(param);
        }
        return std::optional<std::int64_t>();
    }
    const auto& v = it->value();
    if (v.is_int64()) {
        return std::optional<std::int64_t>(v.get_int64());
    }
    if (v.is_uint64()) {
        return invalid(param, "The field " + param + " is too large.");
    }
    return invalid(param, "The field " + param + " must be a whole number (JSON integer).");
}

boost::system::result<bool, api_error> bool_field(const json::object& object,
                                                  std::string_view key) {
    auto it = object.find(key);
    if (it == object.end() || it->value().is_null()) {
        return false;
    }
    if (!it->value().is_bool()) {
        return invalid(std::string(key),
                       "The field " + std::string(key) + " must be true or false.");
    }
    return it->value().get_bool();
}

bool valid_bill_id(std::string_view text) {
    return !text.empty() && text.size() <= 64 && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.' || c == '/';
    });
}

bool valid_email(std::string_view text) {
    auto at = text.find('@');
    if (at == std::string_view::npos || at == 0 ||
        text.find('@', at + 1) != std::string_view::npos) {
        return false;
    }
    auto domain = text.substr(at + 1);
    if (domain.size() < 3 || domain.find('.') == std::string_view::npos || domain.front() == '.' ||
        domain.back() == '.') {
        return false;
    }
    return std::none_of(text.begin(), text.end(),
                        [](char c) { return c == ' ' || c == ',' || c == '<' || c == '>'; });
}

/// Reads the "card" object into locked memory. The strings stay in the wiped parse buffer.
boost::system::result<tokenizer::card_data, api_error> read_card(const json::value& value) {
    if (!value.is_object()) {
        return invalid("card", "The field card must be an object.");
    }
    const auto& card = value.get_object();
    if (auto e = check_keys(card, "card.",
                            {"number", "exp_month", "exp_year", "cvc", "name", "postal_code"})) {
        return *e;
    }
    tokenizer::card_data data;
    auto number = card.find("number");
    if (number == card.end() || number->value().is_null()) {
        return missing("card.number");
    }
    if (!number->value().is_string()) {
        return invalid("card.number", "The card number must be a string of digits.");
    }
    if (!data.set_number(number->value().get_string())) {
        return invalid_request("card.number", "invalid_number", "The card number is not valid.");
    }
    auto cvc = card.find("cvc");
    if (cvc == card.end() || cvc->value().is_null()) {
        return missing("card.cvc");
    }
    if (!cvc->value().is_string()) {
        return invalid("card.cvc", "The security code must be a string of digits.");
    }
    if (!data.set_cvc(cvc->value().get_string())) {
        return invalid_request("card.cvc", "invalid_cvc", "The security code is not valid.");
    }
    int month = 0;
    int year = 0;
    for (auto [key, out] : {std::pair<std::string_view, int*>{"exp_month", &month},
                            std::pair<std::string_view, int*>{"exp_year", &year}}) {
        std::string param = "card." + std::string(key);
        auto field = integer_field(card, key, param, true);
        if (!field) {
            return field.error();
        }
        const auto v = **field;
        // Checked here, where the number is still the client's: card_data keeps a month in one
        // byte, and 268 must never become 12.
        if (key == "exp_month" && (v < 1 || v > 12)) {
            return invalid_request(param, "invalid_expiry_month",
                                   "The expiry month must be a whole number from 1 to 12.");
        }
        if (key == "exp_year" && (v < 2000 || v > 2099)) {
            return invalid_request(param, "invalid_expiry_year",
                                   "The expiry year must be a four-digit year.");
        }
        *out = static_cast<int>(v);
    }
    data.set_expiry(month, year);
    if (auto name = card.find("name"); name != card.end() && !name->value().is_null()) {
        if (!name->value().is_string() || !data.set_name(name->value().get_string()) ||
            has_control_characters(name->value().get_string())) {
            return invalid("card.name",
                           "The cardholder name must be a string of at most 120 "
                           "characters.");
        }
        if (tokenizer::contains_card_number(name->value().get_string())) {
            return card_number_in("card.name");
        }
    }
    if (auto postal = card.find("postal_code");
        postal != card.end() && !postal->value().is_null()) {
        if (!postal->value().is_string() || !data.set_postal_code(postal->value().get_string()) ||
            has_control_characters(postal->value().get_string())) {
            return invalid("card.postal_code",
                           "The postal code must be a string of at most 16 characters.");
        }
    }
    return data;
}

#define BILLPAY_TAKE(var, expr)      \
    auto var##_result = (expr);      \
    if (!var##_result) {             \
        return var##_result.error(); \
    }                                \
    auto var = std::move(*var##_result)

boost::system::result<json::value, api_error> parse_object(std::string_view body) {
    boost::system::error_code ec;
    auto value = tokenizer::parse_wiping(body, ec);
    if (ec) {
        return invalid_request(
            "", "invalid_json",
            "The request body is not valid JSON (UTF-8, at most 8 levels deep, no key twice "
            "in one object).");
    }
    if (!value.is_object()) {
        return invalid_request("", "invalid_json", "The request body must be a JSON object.");
    }
    return value;
}

std::string upper_case(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; });
    return text;
}

std::optional<api_error> read_customer(const json::object& object, payments::customer& out) {
    auto customer = object.find("customer");
    if (customer == object.end() || customer->value().is_null()) {
        return missing("customer");
    }
    if (!customer->value().is_object()) {
        return invalid("customer", "The field customer must be an object.");
    }
    const auto& c = customer->value().get_object();
    if (auto e = check_keys(c, "customer.", {"name", "email"})) {
        return *e;
    }
    auto name = string_field(c, "name", "customer.name", true, 200, text_kind::free_text);
    if (!name) {
        return name.error();
    }
    auto email = string_field(c, "email", "customer.email", true, 254, text_kind::free_text);
    if (!email) {
        return email.error();
    }
    if (!valid_email(**email)) {
        return invalid("customer.email", "The customer's email address is not valid.");
    }
    out = {**name, **email};
    return std::nullopt;
}

/// The bill id, by its own grammar (never searched for card numbers).
std::optional<api_error> read_bill_id(const json::object& object, bool required,
                                      std::optional<std::string>& out) {
    auto field = string_field(object, "bill_id", "bill_id", required, 64, text_kind::identifier);
    if (!field) {
        return field.error();
    }
    if (*field && !valid_bill_id(**field)) {
        return invalid("bill_id", "The bill id must be 1 to 64 letters, digits or - _ . /");
    }
    out = *field;
    return std::nullopt;
}

/// A required positive amount in minor units under `key`.
std::optional<api_error> read_amount(const json::object& object, std::string_view key,
                                     std::int64_t& out) {
    const std::string param(key);
    auto field = integer_field(object, key, param, true);
    if (!field) {
        return field.error();
    }
    if (**field <= 0) {
        return invalid(param, "The " + param + " must be a positive whole number of minor units.");
    }
    out = **field;
    return std::nullopt;
}

/// The required currency code, upper-cased (whether the utility takes it is the use case's).
std::optional<api_error> read_currency(const json::object& object, std::string& out) {
    auto field = string_field(object, "currency", "currency", true, 3, text_kind::identifier);
    if (!field) {
        return field.error();
    }
    out = upper_case(**field);
    return std::nullopt;
}

std::optional<api_error> read_account(const json::object& object, std::string& out) {
    auto field =
        string_field(object, "account_number", "account_number", true, 32, text_kind::identifier);
    if (!field) {
        return field.error();
    }
    out = **field;
    if (!valid_account_number(out)) {
        return invalid("account_number",
                       "The account number must be 1 to 32 letters, digits or dashes.");
    }
    return std::nullopt;
}

}  // namespace

std::optional<api_error> account_number_refusal(const std::string& account_number) {
    if (!valid_account_number(account_number)) {
        return invalid_request("account_number", "parameter_invalid",
                               "Account numbers are 1 to 32 letters, digits and '-'.");
    }
    return std::nullopt;
}

bool valid_account_number(std::string_view text) {
    return !text.empty() && text.size() <= 32 && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-';
    });
}

boost::system::result<payments::schedule_request, api_error> parse_schedule_request(
    std::string_view body) {
    BILLPAY_TAKE(value, parse_object(body));
    const auto& object = value.get_object();
    if (auto e = check_keys(object, "",
                            {"account_number", "bill_id", "amount", "currency", "payment_method",
                             "pay_on", "customer"})) {
        return *e;
    }
    payments::schedule_request request;
    if (auto e = read_account(object, request.account_number)) {
        return *e;
    }
    if (auto e = read_bill_id(object, false, request.bill_id)) {
        return *e;
    }
    if (auto e = read_amount(object, "amount", request.amount)) {
        return *e;
    }
    if (auto e = read_currency(object, request.currency)) {
        return *e;
    }
    BILLPAY_TAKE(method, string_field(object, "payment_method", "payment_method", true, 64,
                                      text_kind::identifier));
    request.payment_method = *method;
    BILLPAY_TAKE(pay_on, string_field(object, "pay_on", "pay_on", true, 10, text_kind::identifier));
    if (!model::valid_date(*pay_on)) {
        return invalid("pay_on", "pay_on must be a day: 2026-12-28.");
    }
    request.pay_on = *pay_on;
    if (auto e = read_customer(object, request.payer)) {
        return *e;
    }
    return request;
}

json::object scheduled_payment_json(const model::scheduled_payment_record& p) {
    return json::object{
        {"id", p.id},
        {"object", "scheduled_payment"},
        {"account_number", p.account_number},
        {"bill_id", p.bill_id ? json::value(*p.bill_id) : json::value()},
        {"amount", p.amount.minor_units},
        {"currency", std::string(p.amount.unit.code())},
        {"payment_method", p.payment_method_id},
        {"pay_on", p.pay_on},
        {"status", model::to_string(p.status)},
        {"payment", p.payment_id ? json::value(*p.payment_id) : json::value()},
        {"origin", model::to_string(p.origin)},
        {"attempts", p.attempts},
        {"next_attempt_on", p.next_attempt_on ? json::value(*p.next_attempt_on) : json::value()},
        {"failure_code", p.failure_code ? json::value(*p.failure_code) : json::value()},
        {"created", p.created_at}};
}

boost::system::result<payments::bill_request, api_error> parse_bill_request(std::string_view body) {
    BILLPAY_TAKE(value, parse_object(body));
    const auto& object = value.get_object();
    if (auto e = check_keys(object, "",
                            {"account_number", "bill_id", "amount_due", "currency", "due_date"})) {
        return *e;
    }
    payments::bill_request bill;
    if (auto e = read_account(object, bill.account_number)) {
        return *e;
    }
    std::optional<std::string> bill_id;
    if (auto e = read_bill_id(object, true, bill_id)) {
        return *e;
    }
    bill.bill_id = *bill_id;
    if (auto e = read_amount(object, "amount_due", bill.amount_due)) {
        return *e;
    }
    if (auto e = read_currency(object, bill.currency)) {
        return *e;
    }
    BILLPAY_TAKE(due,
                 string_field(object, "due_date", "due_date", true, 10, text_kind::identifier));
    if (!model::valid_date(*due)) {
        return invalid("due_date", "The due date must be a day: 2026-12-31.");
    }
    bill.due_date = *due;
    return bill;
}

json::object bill_json(const model::bill_record& bill) {
    return json::object{{"object", "bill"},
                        {"account_number", bill.account_number},
                        {"bill_id", bill.bill_id},
                        {"amount_due", bill.amount_due.minor_units},
                        {"currency", std::string(bill.amount_due.unit.code())},
                        {"due_date", bill.due_date},
                        {"status", bill.paid_by ? "paid" : "unpaid"},
                        {"payment", bill.paid_by ? json::value(*bill.paid_by) : json::value()},
                        {"created", bill.created_at}};
}

boost::system::result<payments::autopay_request, api_error> parse_autopay_request(
    std::string_view body) {
    BILLPAY_TAKE(value, parse_object(body));
    const auto& object = value.get_object();
    if (auto e = check_keys(object, "",
                            {"payment_method", "days_before_due", "max_amount", "customer"})) {
        return *e;
    }
    payments::autopay_request request;
    BILLPAY_TAKE(method, string_field(object, "payment_method", "payment_method", true, 64,
                                      text_kind::identifier));
    request.payment_method = *method;
    BILLPAY_TAKE(days, integer_field(object, "days_before_due", "days_before_due", false));
    if (days) {
        if (*days < 0 || *days > 10) {
            return invalid("days_before_due",
                           "days_before_due must be a whole number from 0 to 10.");
        }
        request.days_before_due = static_cast<int>(*days);
    }
    BILLPAY_TAKE(max, integer_field(object, "max_amount", "max_amount", false));
    if (max) {
        if (*max <= 0) {
            return invalid("max_amount",
                           "max_amount must be a positive whole number of minor units.");
        }
        request.max_amount = *max;
    }
    if (auto e = read_customer(object, request.payer)) {
        return *e;  // AutoPay's receipts and notices go to them
    }
    return request;
}

json::object autopay_json(const model::autopay_enrollment& e) {
    return json::object{
        {"object", "autopay"},
        {"account_number", e.account_number},
        {"payment_method", e.payment_method_id},
        {"days_before_due", e.days_before_due},
        {"max_amount", e.max_amount ? json::value(*e.max_amount) : json::value()},
        {"customer", json::object{{"name", e.customer_name}, {"email", e.customer_email}}},
        {"created", e.created_at},
        {"updated", e.updated_at}};
}

boost::system::result<account_update, api_error> parse_account_update(std::string_view body) {
    BILLPAY_TAKE(value, parse_object(body));
    const auto& object = value.get_object();
    if (auto e = check_keys(object, "", {"email"})) {
        return *e;
    }
    BILLPAY_TAKE(email, string_field(object, "email", "email", true, 254, text_kind::free_text));
    if (!valid_email(*email)) {
        return invalid("email", "The email address is not valid.");
    }
    return account_update{*email};
}

boost::system::result<payments::pay_request, api_error> parse_payment_request(
    std::string_view body) {
    BILLPAY_TAKE(value, parse_object(body));
    const auto& object = value.get_object();
    if (auto e = check_keys(object, "",
                            {"account_number", "bill_id", "amount", "currency", "card",
                             "payment_method", "processor_token", "customer", "save_payment_method",
                             "metadata", "confirm_duplicate"})) {
        return *e;
    }
    payments::pay_request request;
    if (auto e = read_account(object, request.account_number)) {
        return *e;
    }
    if (auto e = read_bill_id(object, false, request.bill_id)) {
        return *e;
    }
    if (auto e = read_amount(object, "amount", request.amount)) {
        return *e;
    }
    if (auto e = read_currency(object, request.currency)) {
        return *e;
    }

    auto card = object.find("card");
    bool has_card = card != object.end() && !card->value().is_null();
    BILLPAY_TAKE(method, string_field(object, "payment_method", "payment_method", false, 64,
                                      text_kind::identifier));
    BILLPAY_TAKE(token, browser_token_field(object));
    int sources = int{has_card} + int{method.has_value()} + int{token.has_value()};
    if (sources != 1) {
        return sources == 0 ? missing("card")
                            : invalid(token ? "processor_token" : "payment_method",
                                      "Give one of card, payment_method or processor_token.");
    }
    if (has_card) {
        BILLPAY_TAKE(data, read_card(card->value()));
        request.card.emplace(std::move(data));
    } else if (method) {
        if (!method->starts_with("pm_")) {
            return invalid("payment_method", "The payment method must be a pm_ id.");
        }
        request.payment_method = method;
    } else {
        request.processor_token = token;
    }

    if (auto e = read_customer(object, request.payer)) {
        return *e;
    }

    BILLPAY_TAKE(save, bool_field(object, "save_payment_method"));
    request.save_payment_method = save;
    BILLPAY_TAKE(confirm, bool_field(object, "confirm_duplicate"));
    request.confirm_duplicate = confirm;

    if (auto metadata = object.find("metadata");
        metadata != object.end() && !metadata->value().is_null()) {
        if (!metadata->value().is_object() || metadata->value().get_object().size() > 20) {
            return invalid("metadata", "The metadata must be an object of at most 20 strings.");
        }
        for (const auto& entry : metadata->value().get_object()) {
            std::string_view key = entry.key();
            if (key.empty() || key.size() > 40 || has_control_characters(key) ||
                !entry.value().is_string() || entry.value().get_string().size() > 500 ||
                has_control_characters(entry.value().get_string())) {
                return invalid("metadata",
                               "Metadata keys are 1 to 40 characters and values "
                               "strings of at most 500, without control, direction-changing "
                               "or line-separating characters.");
            }
            if (tokenizer::contains_card_number(key)) {
                return card_number_in("metadata");
            }
            if (tokenizer::contains_card_number(entry.value().get_string())) {
                return card_number_in("metadata." + std::string(key));
            }
            request.metadata.emplace_back(std::string(key),
                                          std::string(entry.value().get_string()));
        }
        std::sort(request.metadata.begin(), request.metadata.end());
    }
    return request;
}

boost::system::result<payments::save_card_request, api_error> parse_payment_method_request(
    std::string_view body) {
    BILLPAY_TAKE(value, parse_object(body));
    const auto& object = value.get_object();
    if (auto e = check_keys(object, "", {"account_number", "card", "processor_token"})) {
        return *e;
    }
    payments::save_card_request request;
    if (auto e = read_account(object, request.account_number)) {
        return *e;
    }
    auto card = object.find("card");
    bool has_card = card != object.end() && !card->value().is_null();
    BILLPAY_TAKE(token, browser_token_field(object));
    if (has_card == token.has_value()) {
        return has_card ? invalid("processor_token", "Give either card or processor_token.")
                        : missing("card");
    }
    if (token) {
        request.processor_token = token;
        return request;
    }
    BILLPAY_TAKE(data, read_card(card->value()));
    request.card.emplace(std::move(data));
    return request;
}

#undef BILLPAY_TAKE

json::object payment_json(const model::payment_record& p) {
    json::object o;
    o["id"] = p.id;
    o["object"] = "payment";
    o["status"] = model::to_string(p.status);
    o["amount"] = p.amount.minor_units;
    o["amount_refunded"] = p.amount_refunded;
    o["currency"] = p.amount.unit.code();
    o["account_number"] = p.account_number;
    o["bill_id"] = p.bill_id ? json::value(*p.bill_id) : json::value(nullptr);
    o["confirmation"] = p.confirmation;
    o["card"] = json::object{{"brand", p.card.brand},
                             {"last4", p.card.last4},
                             {"exp_month", p.card.exp_month},
                             {"exp_year", p.card.exp_year}};
    o["payment_method"] =
        p.payment_method_id ? json::value(*p.payment_method_id) : json::value(nullptr);
    // A payment retention reduced keeps no name or email (docs/privacy.md).
    o["customer"] =
        p.reduced
            ? json::value(nullptr)
            : json::value(json::object{{"name", p.customer_name}, {"email", p.customer_email}});
    o["processor"] = p.processor;
    o["processor_reference"] =
        p.processor_reference ? json::value(*p.processor_reference) : json::value(nullptr);
    o["decline_code"] = p.decline_code ? json::value(*p.decline_code) : json::value(nullptr);
    o["requires_review"] = p.needs_review;
    o["origin"] = model::to_string(model::origin_of_client(p.client_id));
    boost::system::error_code ec;
    auto metadata = json::parse(p.metadata_json, ec);
    o["metadata"] = ec ? json::value(json::object()) : metadata;
    o["created_at"] = p.created_at;
    o["updated_at"] = p.updated_at;
    return o;
}

json::object payment_method_json(const model::payment_method_record& m) {
    return json::object{{"id", m.id},
                        {"object", "payment_method"},
                        {"account_number", m.account_number},
                        {"card", json::object{{"brand", m.card.brand},
                                              {"last4", m.card.last4},
                                              {"exp_month", m.card.exp_month},
                                              {"exp_year", m.card.exp_year}}},
                        {"created_at", m.created_at}};
}

std::string request_fingerprint(const payments::pay_request& r, std::string_view card_fingerprint) {
    json::object canonical;
    canonical["account_number"] = r.account_number;
    canonical["bill_id"] = r.bill_id ? json::value(*r.bill_id) : json::value(nullptr);
    canonical["amount"] = r.amount;
    canonical["currency"] = r.currency;
    canonical["card"] = card_fingerprint;
    canonical["payment_method"] =
        r.payment_method ? json::value(*r.payment_method) : json::value(nullptr);
    canonical["processor_token"] =
        r.processor_token ? json::value(r.processor_token->canonical()) : json::value(nullptr);
    canonical["customer"] = json::array{r.payer.name, r.payer.email};
    canonical["save_payment_method"] = r.save_payment_method;
    canonical["confirm_duplicate"] = r.confirm_duplicate;
    json::array metadata;
    for (const auto& [k, v] : r.metadata) {
        metadata.push_back(json::array{k, v});
    }
    canonical["metadata"] = std::move(metadata);
    return model::sha256_hex(json::serialize(canonical));
}

bool valid_time(std::string_view text) {
    if (text.size() < 10 || text.size() > 35) {
        return false;
    }
    for (char c : text) {
        bool ok = (c >= '0' && c <= '9') || c == '-' || c == ':' || c == 'T' || c == 'Z' ||
                  c == '.' || c == '+';
        if (!ok) {
            return false;
        }
    }
    return text[4] == '-' && text[7] == '-';
}

}  // namespace billpay::daemon
