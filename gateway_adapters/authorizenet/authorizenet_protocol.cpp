#include "gateway_adapters/authorizenet/authorizenet_protocol.hpp"

#include <boost/json/parse.hpp>
#include <charconv>

#include "model/digest.hpp"

namespace billpay::gateway::authorizenet {
namespace {

/// A string member of `object`, or "".
std::string text_of(const boost::json::object& object, std::string_view key) {
    auto it = object.find(key);
    return it != object.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                         : std::string();
}

/// Authorize.Net writes a repeated element as an array, and sometimes a single one as an object:
/// the first either way.
const boost::json::object* first_of(const boost::json::value* v) {
    if (v == nullptr) {
        return nullptr;
    }
    if (v->is_array() && !v->as_array().empty() && v->as_array().front().is_object()) {
        return &v->as_array().front().as_object();
    }
    return v->is_object() ? &v->as_object() : nullptr;
}

bool all_digits(std::string_view text) {
    return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

request_writer::request_writer(body_string& out, std::string_view request_name,
                               std::string_view login_id, std::string_view transaction_key)
    : out_(out) {
    out_.push_back('{');
    first_.push_back(true);
    closers_.push_back('}');
    open(request_name);
    open("merchantAuthentication");
    field("name", login_id);
    field("transactionKey", transaction_key);
    close();
}

void request_writer::separate() {
    if (!first_.back()) {
        out_.push_back(',');
    }
    first_.back() = false;
}

void request_writer::string(std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    out_.push_back('"');
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out_.push_back('\\');
            out_.push_back(ch);
        } else if (c < 0x20) {
            out_.append("\\u00");
            out_.push_back(hex[c >> 4]);
            out_.push_back(hex[c & 0xf]);
        } else {
            out_.push_back(ch);
        }
    }
    out_.push_back('"');
}

void request_writer::key(std::string_view k) {
    separate();
    string(k);
    out_.push_back(':');
}

request_writer& request_writer::open(std::string_view k) {
    key(k);
    out_.push_back('{');
    first_.push_back(true);
    closers_.push_back('}');
    return *this;
}

request_writer& request_writer::open_array(std::string_view k) {
    key(k);
    out_.push_back('[');
    first_.push_back(true);
    closers_.push_back(']');
    return *this;
}

request_writer& request_writer::open_element() {
    separate();
    out_.push_back('{');
    first_.push_back(true);
    closers_.push_back('}');
    return *this;
}

request_writer& request_writer::close() {
    out_.push_back(closers_.back());
    closers_.pop_back();
    first_.pop_back();
    return *this;
}

request_writer& request_writer::field(std::string_view k, std::string_view value) {
    key(k);
    string(value);
    return *this;
}

request_writer& request_writer::flag(std::string_view k, bool value) {
    key(k);
    out_.append(value ? "true" : "false");
    return *this;
}

void request_writer::finish() {
    while (!closers_.empty()) {
        close();
    }
}

std::string_view strip_bom(std::string_view text) noexcept {
    return text.starts_with("\xEF\xBB\xBF") ? text.substr(3) : text;
}

std::string quote_numbers(std::string_view json) {
    std::string out;
    out.reserve(json.size() + 32);
    bool in_string = false;
    for (std::size_t i = 0; i < json.size(); ++i) {
        char c = json[i];
        if (in_string) {
            out.push_back(c);
            if (c == '\\' && i + 1 < json.size()) {
                out.push_back(json[++i]);
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
            out.push_back(c);
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            auto end = json.find_first_not_of("+-0123456789.eE", i);
            end = end == std::string_view::npos ? json.size() : end;
            out.push_back('"');
            out.append(json.substr(i, end - i));
            out.push_back('"');
            i = end - 1;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

response parse_response(std::string_view body) {
    response r;
    boost::system::error_code ec;
    auto doc = boost::json::parse(quote_numbers(strip_bom(body)), ec);
    if (ec || !doc.is_object()) {
        return r;
    }
    r.parsed = true;
    r.body = std::move(doc.as_object());
    if (auto* messages = r.body.if_contains("messages"); messages && messages->is_object()) {
        r.result_ok = text_of(messages->as_object(), "resultCode") == "Ok";
        if (auto* first = first_of(messages->as_object().if_contains("message"))) {
            r.code = text_of(*first, "code");
            r.text = text_of(*first, "text");
        }
    }
    return r;
}

std::string invoice_number_for(std::string_view payment_id) {
    auto underscore = payment_id.find('_');
    auto random =
        underscore == std::string_view::npos ? payment_id : payment_id.substr(underscore + 1);
    return std::string(random.substr(0, 20));
}

std::string merchant_customer_id_for(std::string_view account_number) {
    if (account_number.size() <= 20) {
        return std::string(account_number);
    }
    // Built with append, not "h" + temporary: GCC 12 at -O2/-O3 warns -Wrestrict on the latter
    // (a false positive, GCC bug 105651).
    std::string id = "h";
    id.append(model::sha256_hex(account_number), 0, 19);
    return id;
}

std::string profile_token::to_string() const {
    return (once ? "once:" : "") + customer_profile_id + "/" + payment_profile_id;
}

std::optional<profile_token> profile_token::parse(std::string_view token) {
    const bool once = token.starts_with("once:");
    if (once) {
        token.remove_prefix(5);
    }
    auto slash = token.find('/');
    if (slash == std::string_view::npos) {
        return std::nullopt;
    }
    profile_token t{std::string(token.substr(0, slash)), std::string(token.substr(slash + 1)),
                    once};
    if (!all_digits(t.customer_profile_id) || !all_digits(t.payment_profile_id) ||
        t.customer_profile_id.size() > 20 || t.payment_profile_id.size() > 20) {
        return std::nullopt;
    }
    return t;
}

mapped_transaction map_reason_code(std::string_view response_code, int reason) {
    auto declined = [](const char* code) {
        return mapped_transaction{outcome::declined, code, "", ""};
    };
    switch (reason) {
        case 2:
            return declined("generic_decline");
        case 3:
            return declined("call_issuer");
        case 4:
            return declined("pickup_card");
        case 6:
        case 37:
        case 315:
            return declined("incorrect_number");
        case 7:
        case 316:
            return declined("invalid_expiry_year");
        case 8:
        case 317:
            return declined("expired_card");
        case 17:
        case 28:
            return declined("card_not_supported");
        case 27:
        case 127:
        case 290:
            return declined("incorrect_address");
        case 44:
        case 45:
        case 65:
        case 78:
            return declined("incorrect_cvc");
        case 250:
        case 251:
        case 254:
            return declined("fraudulent");
        // A duplicate of a transaction within the duplicate window: the first one may stand.
        case 11:
        // Timed out at the card network, and the automatic reversal may have failed.
        case 120:
        case 121:
        case 122:
        // Held for review by the merchant's fraud filters: decided later.
        case 252:
        case 253:
            return {outcome::unknown, "", "", ""};
        // Processing errors: nothing was charged, try again later.
        case 19:
        case 20:
        case 21:
        case 22:
        case 23:
        case 25:
        case 26:
        case 57:
        case 58:
        case 59:
        case 60:
        case 61:
        case 62:
        case 63:
            return {outcome::failed, "processing_error", "", ""};
        default:
            break;
    }
    if (response_code == "2") {
        return declined("generic_decline");
    }
    return {outcome::failed, "processor_error", "", ""};
}

mapped_transaction map_message_code(std::string_view code, std::string_view text, bool charging) {
    mapped_transaction m;
    // Validation errors quote the value they refused ("The value '…' is invalid according to its
    // datatype"), and a tokenize request's values are card data: their text is never kept.
    bool quotes_values = code == "E00003" || code == "E00013" || code == "E00014" ||
                         code == "E00015" || code == "E00016";
    m.message = quotes_values ? std::string(code) +
                                    " (Authorize.Net refused the request's form; its text is not "
                                    "kept, as it can quote what was sent)"
                              : std::string(code) + " " + std::string(text);
    if (code == "E00001" || code == "E00002") {
        // "An error occurred during processing": after a charge was sent, it may have been made.
        m.result = charging ? outcome::unknown : outcome::failed;
        m.decline_code = charging ? "" : "processing_error";
    } else if (code == "E00114" || code == "E00117") {
        m.result = outcome::declined;  // the Accept.js nonce is unknown or expired
        m.decline_code = "invalid_token";
    } else if (code == "E00040") {
        m.result = outcome::failed;  // the profile is gone: nothing charged
        m.decline_code = "resource_missing";
    } else if (code == "E00007" || code == "E00008" || code == "E00011") {
        m.result = outcome::failed;  // the credentials or the account: nothing done
        m.decline_code = "authentication_failed";
    } else {
        m.result = outcome::failed;
        m.decline_code = "processor_error";
    }
    return m;
}

mapped_transaction map_transaction(const response& r) {
    if (!r.parsed) {
        return {outcome::unknown, "", "the answer was not Authorize.Net JSON", ""};
    }
    auto* tr = r.body.if_contains("transactionResponse");
    if (tr == nullptr || !tr->is_object() || text_of(tr->as_object(), "responseCode").empty()) {
        return map_message_code(r.code, r.text, true);
    }
    const auto& t = tr->as_object();
    auto response_code = text_of(t, "responseCode");
    auto trans_id = text_of(t, "transId");
    if (response_code == "1") {
        return {outcome::approved, "", "", trans_id};
    }
    if (response_code == "4") {
        return {outcome::unknown, "", "held for review", trans_id};
    }
    int reason = 0;
    std::string reason_text;
    if (auto* error = first_of(t.if_contains("errors"))) {
        auto code = text_of(*error, "errorCode");
        std::from_chars(code.data(), code.data() + code.size(), reason);
        reason_text = text_of(*error, "errorText");
    }
    auto mapped = map_reason_code(response_code, reason);
    mapped.trans_id = trans_id == "0" ? std::string() : trans_id;
    mapped.message =
        "responseCode " + response_code + ", reason " + std::to_string(reason) + ": " + reason_text;
    return mapped;
}

std::string brand_of_card_type(std::string_view card_type) {
    if (card_type == "Visa") return "visa";
    if (card_type == "MasterCard") return "mastercard";
    if (card_type == "AmericanExpress") return "amex";
    if (card_type == "Discover") return "discover";
    if (card_type == "JCB") return "jcb";
    if (card_type == "DinersClub") return "diners";
    return "unknown";
}

}  // namespace billpay::gateway::authorizenet
