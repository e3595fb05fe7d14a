#include "tests/fakes/authorizenet_server.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <ctime>
#include <regex>
#include <set>
#include <variant>

#include "model/money.hpp"
#include "tokenizer/luhn.hpp"

namespace billpay::test {
namespace {

/// Authorize.Net's duplicate transaction window (its default, duplicateWindow = 120).
constexpr auto duplicate_window = std::chrono::minutes(2);

namespace http = boost::beast::http;
namespace json = boost::json;

/// The schema's element order for the requests billpayd makes (AnetApiSchema.xsd), by path
/// below the request's root; "*.x" applies to an element x anywhere.
const std::map<std::string, std::vector<std::string>>& schema() {
    static const std::map<std::string, std::vector<std::string>> order = {
        {"*.merchantAuthentication",
         {"name", "transactionKey", "sessionToken", "password", "impersonationAuthentication",
          "fingerPrint", "clientKey", "accessToken", "mobileDeviceId"}},
        {"createCustomerProfileRequest",
         {"merchantAuthentication", "refId", "profile", "validationMode"}},
        {"createCustomerProfileRequest.profile",
         {"merchantCustomerId", "description", "email", "paymentProfiles", "shipToList",
          "profileType"}},
        {"createCustomerProfileRequest.profile.paymentProfiles",
         {"customerType", "billTo", "payment", "driversLicense", "taxId", "defaultPaymentProfile",
          "subsequentAuthInformation"}},
        {"*.payment",
         {"creditCard", "bankAccount", "trackData", "encryptedTrackData", "payPal", "opaqueData",
          "emv", "dataSource"}},
        {"*.creditCard",
         {"cardNumber", "expirationDate", "cardCode", "isPaymentToken", "cryptogram"}},
        {"*.opaqueData", {"dataDescriptor", "dataValue", "dataKey", "expirationTimeStamp"}},
        // customerAddressType (Authorize.Net's API reference).
        {"*.billTo",
         {"firstName", "lastName", "company", "address", "city", "state", "zip", "country",
          "phoneNumber", "faxNumber"}},
        {"createCustomerPaymentProfileRequest",
         {"merchantAuthentication", "refId", "customerProfileId", "paymentProfile",
          "validationMode"}},
        {"createCustomerPaymentProfileRequest.paymentProfile",
         {"customerType", "billTo", "payment", "driversLicense", "taxId", "defaultPaymentProfile",
          "subsequentAuthInformation"}},
        {"getCustomerPaymentProfileRequest",
         {"merchantAuthentication", "refId", "customerProfileId", "customerPaymentProfileId",
          "unmaskExpirationDate", "includeIssuerInfo"}},
        {"deleteCustomerPaymentProfileRequest",
         {"merchantAuthentication", "refId", "customerProfileId", "customerPaymentProfileId"}},
        {"deleteCustomerProfileRequest", {"merchantAuthentication", "refId", "customerProfileId"}},
        {"getCustomerProfileIdsRequest", {"merchantAuthentication", "refId"}},
        {"getCustomerProfileRequest",
         {"merchantAuthentication", "refId", "customerProfileId", "merchantCustomerId", "email",
          "unmaskExpirationDate", "includeIssuerInfo"}},
        {"createTransactionRequest", {"merchantAuthentication", "refId", "transactionRequest"}},
        {"createTransactionRequest.transactionRequest",
         {"transactionType",
          "amount",
          "currencyCode",
          "payment",
          "profile",
          "solution",
          "callId",
          "terminalNumber",
          "authCode",
          "refTransId",
          "splitTenderId",
          "order",
          "lineItems",
          "tax",
          "duty",
          "shipping",
          "taxExempt",
          "poNumber",
          "customer",
          "billTo",
          "shipTo",
          "customerIP",
          "cardholderAuthentication",
          "retail",
          "employeeId",
          "transactionSettings",
          "userFields",
          "surcharge",
          "merchantDescriptor",
          "subMerchant",
          "tip",
          "processingOptions",
          "subsequentAuthInformation",
          "otherTax",
          "shipFrom",
          "authorizationIndicatorType"}},
        {"createTransactionRequest.transactionRequest.profile",
         {"createProfile", "customerProfileId", "paymentProfile", "shippingProfileId"}},
        {"createTransactionRequest.transactionRequest.profile.paymentProfile",
         {"paymentProfileId", "cardCode"}},
        {"createTransactionRequest.transactionRequest.order",
         {"invoiceNumber", "description", "discountAmount", "taxIsAfterDiscount",
          "totalTaxTypeCode", "purchaserVATRegistrationNumber"}},
        {"createTransactionRequest.transactionRequest.userFields", {"userField"}},
        {"createTransactionRequest.transactionRequest.userFields.userField", {"name", "value"}},
        {"getTransactionDetailsRequest", {"merchantAuthentication", "refId", "transId"}},
        {"getUnsettledTransactionListRequest",
         {"merchantAuthentication", "refId", "status", "sorting", "paging"}},
        {"getTransactionListRequest",
         {"merchantAuthentication", "refId", "batchId", "sorting", "paging"}},
        {"getTransactionListForCustomerRequest",
         {"merchantAuthentication", "refId", "customerProfileId", "customerPaymentProfileId",
          "sorting", "paging"}},
        {"*.sorting", {"orderBy", "orderDescending"}},
        {"*.paging", {"limit", "offset"}},
        {"getSettledBatchListRequest",
         {"merchantAuthentication", "refId", "includeStatistics", "firstSettlementDate",
          "lastSettlementDate"}},
    };
    return order;
}

const std::vector<std::string>* schema_of(const std::string& path) {
    const auto& s = schema();
    if (auto it = s.find(path); it != s.end()) {
        return &it->second;
    }
    auto dot = path.rfind('.');
    if (dot != std::string::npos) {
        if (auto it = s.find("*" + path.substr(dot)); it != s.end()) {
            return &it->second;
        }
    }
    return nullptr;
}

/// The first element out of the schema's order, as Authorize.Net's E00003 names it.
std::optional<std::string> order_problem(const json::object& o, const std::string& path) {
    if (const auto* order = schema_of(path)) {
        std::size_t last = 0;
        for (const auto& entry : o) {
            std::string key(entry.key());
            auto at = std::find(order->begin(), order->end(), key);
            auto element =
                path.substr(path.rfind('.') == std::string::npos ? 0 : path.rfind('.') + 1);
            if (at == order->end()) {
                return "The element '" + element + "' has invalid child element '" + key + "'.";
            }
            auto index = static_cast<std::size_t>(at - order->begin());
            if (index < last) {
                return "The element '" + element + "' has invalid child element '" + key +
                       "'. List of possible elements expected: '" + (*order)[last] + "'.";
            }
            last = index;
        }
    }
    for (const auto& entry : o) {
        std::string child = path + "." + std::string(entry.key());
        if (entry.value().is_object()) {
            if (auto p = order_problem(entry.value().as_object(), child)) {
                return p;
            }
        } else if (entry.value().is_array()) {
            for (const auto& item : entry.value().as_array()) {
                if (item.is_object()) {
                    if (auto p = order_problem(item.as_object(), child)) {
                        return p;
                    }
                }
            }
        }
    }
    return std::nullopt;
}

/// Authorize.Net's answer: a byte-order mark, then JSON. Amounts are JSON numbers: they are put
/// in as "#num#12.34" strings and written out bare.
fake_reply answer(json::object body, bool ok, const std::string& code, const std::string& message) {
    body["messages"] =
        json::object{{"resultCode", ok ? "Ok" : "Error"},
                     {"message", json::array{json::object{{"code", code}, {"text", message}}}}};
    auto text = json::serialize(body);
    std::string out = "\xEF\xBB\xBF";
    out.reserve(text.size() + 3);
    const std::string marker = "\"#num#";
    std::size_t from = 0;
    for (auto at = text.find(marker); at != std::string::npos; at = text.find(marker, from)) {
        auto end = text.find('"', at + marker.size());
        out.append(text, from, at - from);
        out.append(text, at + marker.size(), end - at - marker.size());
        from = end + 1;
    }
    out.append(text, from);
    return fake_reply::json(200, std::move(out));
}

fake_reply ok(json::object body) { return answer(std::move(body), true, "I00001", "Successful."); }
fake_reply error(const std::string& code, const std::string& message) {
    return answer({}, false, code, message);
}

std::string num(std::int64_t cents) {
    return "#num#" + model::to_decimal({cents, *model::currency::parse("USD")});
}

std::string text(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
}

const json::object* child(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_object() ? &it->value().as_object() : nullptr;
}

std::string now_utc() {
    auto now = std::chrono::system_clock::now();
    auto t = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms.count()));
    return buf;
}

/// Texts of the response reason codes the fake produces (Authorize.Net's response code list).
std::string reason_text(int reason) {
    switch (reason) {
        case 1:
            return "This transaction has been approved.";
        case 2:
            return "This transaction has been declined.";
        case 3:
            return "This transaction has been declined.";
        case 4:
            return "This transaction has been declined.";
        case 6:
            return "The credit card number is invalid.";
        case 8:
            return "The credit card has expired.";
        case 11:
            return "A duplicate transaction has been submitted.";
        case 16:
            return "The transaction cannot be found.";
        case 19:
            return "An error occurred during processing. Please try again in 5 minutes.";
        case 27:
            return "The transaction has been declined because of an AVS mismatch.";
        case 39:
            return "The supplied currency code is either invalid, not supported, not "
                   "allowed for this merchant or doesn't have an exchange rate.";
        case 44:
            return "This transaction has been declined.";
        case 54:
            return "The referenced transaction does not meet the criteria for issuing a "
                   "credit.";
        case 55:
            return "The sum of credits against the referenced transaction would exceed "
                   "original debit amount.";
        case 65:
            return "This transaction has been declined.";
        case 120:
            return "An error occurred during processing. Please try again.";
        case 252:
            return "Your order has been received. Thank you for your business!";
        case 310:
            return "This transaction has already been voided.";
        default:
            return "This transaction has been declined.";
    }
}

/// responseCode for a reason code in the sandbox's amount-triggered test transactions.
std::string response_code_of(int reason) {
    static const std::set<int> declines = {2, 3, 4, 27, 28, 44, 45, 65, 127, 250, 251, 254};
    if (reason == 1) return "1";
    if (declines.contains(reason)) return "2";
    if (reason == 252 || reason == 253) return "4";
    return "3";
}

fake_reply transaction_answer(const std::string& response_code, int reason,
                              const std::string& trans_id, const std::string& ref_trans_id,
                              const std::string& account_type, const std::string& last4,
                              const std::string& ref_id) {
    json::object tr{{"responseCode", response_code},
                    {"authCode", response_code == "1" ? "A1B2C3" : ""},
                    {"avsResultCode", "Y"},
                    {"cvvResultCode", "P"},
                    {"transId", trans_id},
                    {"refTransID", ref_trans_id},
                    {"transHash", ""},
                    {"testRequest", "0"},
                    {"accountNumber", last4.empty() ? "" : "XXXX" + last4},
                    {"accountType", account_type}};
    bool approved = response_code == "1" || response_code == "4";
    if (approved) {
        tr["messages"] = json::array{
            json::object{{"code", std::to_string(reason)}, {"description", reason_text(reason)}}};
    } else {
        tr["errors"] = json::array{json::object{{"errorCode", std::to_string(reason)},
                                                {"errorText", reason_text(reason)}}};
    }
    json::object body{{"transactionResponse", tr}, {"refId", ref_id}};
    if (approved) {
        return ok(std::move(body));
    }
    return answer(std::move(body), false, "E00027", "The transaction was unsuccessful.");
}

}  // namespace

authorizenet_server::authorizenet_server(tls_files certificate, std::string login_id,
                                         std::string transaction_key)
    : login_id_(std::move(login_id)),
      transaction_key_(std::move(transaction_key)),
      server_(std::make_unique<fake_https_server>(
          std::move(certificate), [this](const fake_request& req) { return handle(req); })) {}

void authorizenet_server::set_fault_plan(fault_plan plan) {
    std::lock_guard lock(mutex_);
    plan_ = std::move(plan);
}

std::string authorizenet_server::endpoint() const {
    return "https://localhost:" + std::to_string(server_->port()) + "/xml/v1/request.api";
}

std::map<std::string, int> authorizenet_server::charges() const {
    std::lock_guard lock(mutex_);
    std::map<std::string, int> out;
    for (const auto& [id, t] : transactions_) {
        if (t.type == "authCaptureTransaction" &&
            (t.status == "capturedPendingSettlement" || t.status == "settledSuccessfully" ||
             t.status == "voided")) {
            ++out[t.invoice];
        }
    }
    return out;
}

std::map<std::string, std::string> authorizenet_server::charge_ids() const {
    std::lock_guard lock(mutex_);
    std::map<std::string, std::string> out;
    for (const auto& [id, t] : transactions_) {
        if (t.type == "authCaptureTransaction" &&
            (t.status == "capturedPendingSettlement" || t.status == "settledSuccessfully")) {
            out[t.invoice] = id;
        }
    }
    return out;
}

std::string authorizenet_server::status_of(const std::string& trans_id) const {
    std::lock_guard lock(mutex_);
    auto it = transactions_.find(trans_id);
    return it == transactions_.end() ? "" : it->second.status;
}

std::size_t authorizenet_server::payment_profiles() const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& [id, p] : profiles_) {
        n += p.payment_profiles.size();
    }
    return n;
}

std::string authorizenet_server::browser_nonce(const std::string& number, int exp_month,
                                               int exp_year) {
    json::object payment{
        {"creditCard", json::object{{"cardNumber", number},
                                    {"expirationDate", std::to_string(exp_year) + "-" +
                                                           (exp_month < 10 ? "0" : "") +
                                                           std::to_string(exp_month)},
                                    {"cardCode", "123"}}}};
    std::lock_guard lock(mutex_);
    auto made = card_of(payment);
    std::string value = "eyJjb2RlIjoiNTBfMl8wNjAwMDUz" + std::to_string(++next_id_);
    nonces_[value] = std::get<card>(made);
    return value;
}

std::string authorizenet_server::settle(const std::string& settlement_time_utc) {
    std::lock_guard lock(mutex_);
    std::string batch_id = std::to_string(++next_id_);
    auto& b = batches_[batch_id];
    b.settlement_time_utc = settlement_time_utc;
    for (auto& [id, t] : transactions_) {
        if (!t.batch_id.empty()) {
            continue;
        }
        // Every transaction of the day goes into the batch; declined, voided and errored ones
        // keep their status (they count in the batch's declineCount, voidCount, errorCount).
        if (t.status == "capturedPendingSettlement") {
            t.status = "settledSuccessfully";
        } else if (t.status == "refundPendingSettlement") {
            t.status = "refundSettledSuccessfully";
        }
        t.batch_id = batch_id;
        b.trans_ids.push_back(id);
    }
    return batch_id;
}

fake_reply authorizenet_server::handle(const fake_request& req) {
    if (req.method() != http::verb::post || req.target() != "/xml/v1/request.api") {
        ++rejected_;
        return fake_reply{fake_reply::kind::respond, 404, "Not Found", "text/html", {}};
    }
    auto content_type = std::string(req[http::field::content_type]);
    if (!content_type.starts_with("application/json")) {
        ++rejected_;
        return error("E00002", "The content-type specified is not supported.");
    }
    boost::system::error_code ec;
    auto doc = json::parse(req.body(), ec);
    if (ec || !doc.is_object() || doc.as_object().size() != 1 ||
        !doc.as_object().begin()->value().is_object()) {
        ++rejected_;
        return error("E00003", "Root element is missing.");
    }
    std::string name(doc.as_object().begin()->key());
    const auto& r = doc.as_object().begin()->value().as_object();
    if (r.empty() || r.begin()->key() != "merchantAuthentication") {
        ++rejected_;
        return error("E00003", "The element '" + name +
                                   "' has invalid child element. List of possible elements "
                                   "expected: 'merchantAuthentication'.");
    }
    const auto* auth = child(r, "merchantAuthentication");
    if (!auth || text(*auth, "name") != login_id_ ||
        text(*auth, "transactionKey") != transaction_key_) {
        ++rejected_;
        return error("E00007", "User authentication failed due to invalid authentication values.");
    }
    if (!schema_of(name)) {
        ++rejected_;
        return error("E00003", "The element '" + name + "' is not a known request.");
    }
    if (auto problem = order_problem(r, name)) {
        ++rejected_;
        return error("E00003", *problem);
    }
    std::lock_guard lock(mutex_);
    bodies_.push_back(req.body());
    return dispatch(name, r);
}

std::vector<std::string> authorizenet_server::bodies() const {
    std::lock_guard lock(mutex_);
    return bodies_;
}

std::size_t authorizenet_server::customer_profiles() const {
    std::lock_guard lock(mutex_);
    return profiles_.size();
}

std::set<std::string> authorizenet_server::customer_profile_ids() const {
    std::lock_guard lock(mutex_);
    std::set<std::string> out;
    for (const auto& [id, p] : profiles_) {
        out.insert(id);
    }
    return out;
}

std::string authorizenet_server::add_profile(const std::string& merchant_customer_id,
                                             const std::string& description) {
    std::lock_guard lock(mutex_);
    std::string id = std::to_string(++next_id_);
    profiles_[id] = profile{merchant_customer_id, description, {}};
    return id;
}

std::size_t authorizenet_server::payment_profiles_of(const std::string& customer_profile_id) const {
    std::lock_guard lock(mutex_);
    auto it = profiles_.find(customer_profile_id);
    return it == profiles_.end() ? 0 : it->second.payment_profiles.size();
}

void authorizenet_server::pass_time(std::chrono::seconds d) {
    std::lock_guard lock(mutex_);
    for (auto& [id, t] : transactions_) {
        t.submitted -= d;
    }
}

std::map<std::string, int> authorizenet_server::refunds_of_charges() const {
    std::lock_guard lock(mutex_);
    std::map<std::string, int> out;
    for (const auto& [id, t] : transactions_) {
        if (t.type == "refundTransaction") {
            ++out[t.ref_trans_id];
        }
    }
    return out;
}

fake_reply authorizenet_server::dispatch(const std::string& name, const json::object& r) {
    if (name == "createCustomerProfileRequest") return create_customer_profile(r);
    if (name == "createCustomerPaymentProfileRequest") return create_customer_payment_profile(r);
    if (name == "getCustomerPaymentProfileRequest") return get_customer_payment_profile(r);
    if (name == "deleteCustomerPaymentProfileRequest") return delete_customer_payment_profile(r);
    if (name == "deleteCustomerProfileRequest") {
        if (profiles_.erase(text(r, "customerProfileId")) == 0) {
            return error("E00040", "The record cannot be found.");
        }
        return ok({});
    }
    if (name == "getCustomerProfileIdsRequest") {
        // Every customer profile id of the merchant, as numeric strings.
        json::array ids;
        for (const auto& [id, p] : profiles_) {
            ids.emplace_back(id);
        }
        return ok(json::object{{"ids", std::move(ids)}});
    }
    if (name == "getCustomerProfileRequest") {
        auto it = profiles_.find(text(r, "customerProfileId"));
        if (it == profiles_.end()) {
            return error("E00040", "The record cannot be found.");
        }
        json::array payment_profiles;
        for (const auto& [pp, c] : it->second.payment_profiles) {
            payment_profiles.push_back(
                json::object{{"customerPaymentProfileId", pp}, {"customerType", "individual"}});
        }
        return ok(json::object{
            {"profile", json::object{{"merchantCustomerId", it->second.merchant_customer_id},
                                     {"description", it->second.description},
                                     {"customerProfileId", it->first},
                                     {"paymentProfiles", std::move(payment_profiles)}}}});
    }
    if (name == "createTransactionRequest") return create_transaction(r);
    if (name == "getTransactionDetailsRequest") return transaction_details(r);
    if (name == "getSettledBatchListRequest") {
        ++list_requests_;
        return settled_batches(r);
    }
    if (name == "getUnsettledTransactionListRequest" ||
        name == "getTransactionListForCustomerRequest" || name == "getTransactionListRequest") {
        ++list_requests_;
    }
    if (name == "getTransactionListForCustomerRequest") {
        auto customer = profiles_.find(text(r, "customerProfileId"));
        auto payment_profile = text(r, "customerPaymentProfileId");
        if (customer == profiles_.end() ||
            (!payment_profile.empty() &&
             !customer->second.payment_profiles.contains(payment_profile))) {
            return error("E00040", "The record cannot be found.");
        }
    }
    std::vector<const transaction*> list;
    const auto reported_before =
        std::chrono::steady_clock::now() - std::chrono::milliseconds(reporting_lag_ms_.load());
    for (const auto& id : transaction_order_) {
        const auto& t = transactions_.at(id);
        if (t.submitted > reported_before && t.batch_id.empty()) {
            continue;  // made, but not reported yet
        }
        if (name == "getUnsettledTransactionListRequest" && t.batch_id.empty()) {
            list.push_back(&t);
        } else if (name == "getTransactionListForCustomerRequest" &&
                   t.type != "refundTransaction" &&
                   t.customer_profile_id == text(r, "customerProfileId") &&
                   (text(r, "customerPaymentProfileId").empty() ||
                    t.payment_profile_id == text(r, "customerPaymentProfileId"))) {
            list.push_back(&t);
        } else if (name == "getTransactionListRequest" && t.batch_id == text(r, "batchId")) {
            list.push_back(&t);
        }
    }
    if (name == "getTransactionListRequest" && !batches_.contains(text(r, "batchId"))) {
        return error("E00040", "The record cannot be found.");
    }
    return transaction_list(list, r);
}

std::variant<authorizenet_server::card, fake_reply> authorizenet_server::card_of(
    const json::object& payment) {
    if (const auto* cc = child(payment, "creditCard")) {
        auto number = text(*cc, "cardNumber");
        auto expiry = text(*cc, "expirationDate");
        auto code = text(*cc, "cardCode");
        static const std::regex year_month("20[0-9]{2}-(0[1-9]|1[0-2])");
        if (number.size() < 13 || number.size() > 16 || !tokenizer::luhn_valid(number)) {
            return error("E00013", "Card Number is invalid.");
        }
        if (!std::regex_match(expiry, year_month)) {
            return error("E00013", "Expiration Date is invalid.");
        }
        if (code.size() < 3 || code.size() > 4 ||
            code.find_first_not_of("0123456789") != std::string::npos) {
            return error("E00013", "Card Code is invalid.");
        }
        std::string type = number.starts_with("4")   ? "Visa"
                           : number.starts_with("5") ? "MasterCard"
                           : number.starts_with("3") ? "AmericanExpress"
                                                     : "Discover";
        return card{number.substr(number.size() - 4), expiry, type,
                    std::to_string(std::hash<std::string>{}(number + "|" + expiry)),
                    number == "4222222222222"};
    }
    if (const auto* opaque = child(payment, "opaqueData")) {
        if (text(*opaque, "dataDescriptor") != "COMMON.ACCEPT.INAPP.PAYMENT") {
            return error("E00114", "Invalid OTS Token.");
        }
        auto it = nonces_.find(text(*opaque, "dataValue"));
        if (it == nonces_.end()) {
            return error("E00114", "Invalid OTS Token.");
        }
        card c = it->second;
        nonces_.erase(it);  // a nonce is good once
        return c;
    }
    ++rejected_;
    return error("E00003", "The element 'payment' has incomplete content.");
}

fake_reply authorizenet_server::create_customer_profile(const json::object& r) {
    const auto* p = child(r, "profile");
    auto customer_id = p ? text(*p, "merchantCustomerId") : "";
    if (customer_id.empty() || customer_id.size() > 20) {
        ++rejected_;
        return error("E00003", "The 'merchantCustomerId' element is invalid.");
    }
    auto mode = text(r, "validationMode");
    if (!mode.empty() && mode != "none" && mode != "testMode" && mode != "liveMode") {
        ++rejected_;
        return error("E00003", "The 'validationMode' element is invalid.");
    }
    for (const auto& [id, existing] : profiles_) {
        if (existing.merchant_customer_id == customer_id) {
            return error("E00039", "A duplicate record with ID " + id + " already exists.");
        }
    }
    std::optional<card> first;
    if (const auto* pp = child(*p, "paymentProfiles")) {
        const auto* payment = child(*pp, "payment");
        if (!payment) {
            ++rejected_;
            return error("E00003", "The element 'paymentProfiles' has incomplete content.");
        }
        auto c = card_of(*payment);
        if (auto* e = std::get_if<fake_reply>(&c)) {
            return *e;
        }
        first = std::get<card>(c);
    }
    std::string profile_id = std::to_string(++next_id_);
    auto& profile = profiles_[profile_id];
    profile.merchant_customer_id = customer_id;
    profile.description = text(*p, "description");
    json::array ids;
    if (first) {
        std::string payment_profile_id = std::to_string(++next_id_);
        profile.payment_profiles[payment_profile_id] = *first;
        ids.push_back(json::value(payment_profile_id));
    }
    return ok(json::object{{"customerProfileId", profile_id},
                           {"customerPaymentProfileIdList", ids},
                           {"customerShippingAddressIdList", json::array{}},
                           {"validationDirectResponseList", json::array{}}});
}

fake_reply authorizenet_server::create_customer_payment_profile(const json::object& r) {
    auto it = profiles_.find(text(r, "customerProfileId"));
    if (it == profiles_.end()) {
        return error("E00040", "The record cannot be found.");
    }
    const auto* pp = child(r, "paymentProfile");
    const auto* payment = pp ? child(*pp, "payment") : nullptr;
    if (!payment) {
        ++rejected_;
        return error("E00003", "The element 'paymentProfile' has incomplete content.");
    }
    auto c = card_of(*payment);
    if (auto* e = std::get_if<fake_reply>(&c)) {
        return *e;
    }
    const auto& made = std::get<card>(c);
    for (const auto& [id, existing] : it->second.payment_profiles) {
        if (existing.identity == made.identity) {
            return answer(
                json::object{{"customerProfileId", it->first}, {"customerPaymentProfileId", id}},
                false, "E00039", "A duplicate customer payment profile already exists.");
        }
    }
    if (it->second.payment_profiles.size() >= 10) {
        return error("E00042", "You cannot add more than 10 payment profiles.");
    }
    std::string id = std::to_string(++next_id_);
    it->second.payment_profiles[id] = made;
    return ok(json::object{{"customerProfileId", it->first},
                           {"customerPaymentProfileId", id},
                           {"validationDirectResponse", ""}});
}

fake_reply authorizenet_server::get_customer_payment_profile(const json::object& r) {
    auto it = profiles_.find(text(r, "customerProfileId"));
    if (it == profiles_.end() ||
        !it->second.payment_profiles.contains(text(r, "customerPaymentProfileId"))) {
        return error("E00040", "The record cannot be found.");
    }
    const auto& c = it->second.payment_profiles.at(text(r, "customerPaymentProfileId"));
    auto unmask = r.find("unmaskExpirationDate");
    bool unmasked = unmask != r.end() && unmask->value() == json::value(true);
    json::object card_json{{"cardNumber", "XXXX" + c.last4},
                           {"expirationDate", unmasked ? c.expiry : std::string("XXXX")},
                           {"cardType", c.card_type}};
    return ok(json::object{
        {"paymentProfile",
         json::object{{"customerProfileId", it->first},
                      {"customerPaymentProfileId", text(r, "customerPaymentProfileId")},
                      {"payment", json::object{{"creditCard", card_json}}},
                      {"customerType", "individual"}}}});
}

fake_reply authorizenet_server::delete_customer_payment_profile(const json::object& r) {
    auto it = profiles_.find(text(r, "customerProfileId"));
    if (it == profiles_.end() ||
        it->second.payment_profiles.erase(text(r, "customerPaymentProfileId")) == 0) {
        return error("E00040", "The record cannot be found.");
    }
    return ok({});
}

fake_reply authorizenet_server::create_transaction(const json::object& r) {
    const auto* tr = child(r, "transactionRequest");
    if (!tr) {
        ++rejected_;
        return error("E00003", "The element 'createTransactionRequest' has incomplete content.");
    }
    auto type = text(*tr, "transactionType");
    auto ref_id = text(r, "refId");
    if (ref_id.size() > 20) {
        ++rejected_;
        return error("E00003", "The 'refId' element is invalid: its length is over 20.");
    }
    if (type == "authCaptureTransaction") {
        return charge(*tr, ref_id);
    }
    if (type == "refundTransaction" || type == "voidTransaction") {
        return reverse(*tr, type, ref_id);
    }
    ++rejected_;
    return error("E00003", "The 'transactionType' element is invalid.");
}

fake_reply authorizenet_server::charge(const json::object& tr, const std::string& ref_id) {
    auto amount = model::parse_decimal(text(tr, "amount"), *model::currency::parse("USD"));
    const auto* profile = child(tr, "profile");
    const auto* payment_profile = profile ? child(*profile, "paymentProfile") : nullptr;
    const auto* order = child(tr, "order");
    auto invoice = order ? text(*order, "invoiceNumber") : "";
    if (!amount || *amount <= 0 || !payment_profile || invoice.empty() || invoice.size() > 20) {
        ++rejected_;
        return error("E00003",
                     "amount, profile and order.invoiceNumber (at most 20 "
                     "characters) are required.");
    }
    auto currency = text(tr, "currencyCode");
    auto p = profiles_.find(text(*profile, "customerProfileId"));
    auto pp_id = text(*payment_profile, "paymentProfileId");
    if (p == profiles_.end() || !p->second.payment_profiles.contains(pp_id)) {
        return error("E00040", "The record cannot be found.");
    }
    const auto& c = p->second.payment_profiles.at(pp_id);
    int reason = 1;
    if (!currency.empty() && currency != "USD") {
        reason = 39;
    } else if (c.amount_trigger) {
        reason = static_cast<int>(*amount / 100);  // the sandbox's amount-to-reason trigger
    }
    auto response_code = response_code_of(reason);
    if (response_code == "3") {
        return transaction_answer("3", reason, "0", "", c.card_type, c.last4, ref_id);
    }
    const auto now = std::chrono::steady_clock::now();
    for (const auto& [id, earlier] : transactions_) {
        // The same card, amount and invoice within two minutes: a duplicate (reason 11).
        if (earlier.type == "authCaptureTransaction" && earlier.invoice == invoice &&
            earlier.amount_cents == *amount && earlier.customer_profile_id == p->first &&
            earlier.payment_profile_id == pp_id && now - earlier.submitted < duplicate_window) {
            return transaction_answer("3", 11, "0", "", c.card_type, c.last4, ref_id);
        }
    }
    transaction t;
    t.trans_id = std::to_string(++next_id_);
    t.type = "authCaptureTransaction";
    t.status = response_code == "1"   ? "capturedPendingSettlement"
               : response_code == "4" ? "FDSPendingReview"
                                      : "declined";
    t.amount_cents = *amount;
    t.invoice = invoice;
    t.customer_profile_id = p->first;
    t.payment_profile_id = pp_id;
    t.submit_time_utc = now_utc();
    t.account_type = c.card_type;
    t.last4 = c.last4;
    const fault planned = response_code == "1" && plan_ ? plan_(invoice) : fault::none;
    if (planned == fault::lost) {
        // Never reached Authorize.Net: nothing made, the connection simply breaks.
        return fake_reply{fake_reply::kind::reset, 0, "", "", {}};
    }
    auto reply =
        transaction_answer(response_code, reason, t.trans_id, "", c.card_type, c.last4, ref_id);
    if (planned == fault::slow) {
        // Still processing: listed only once done, when the (late) answer goes out.
        reply.delay = std::chrono::milliseconds(late_ms_.load());
        reply.after_delay = [this, t] {
            std::lock_guard lock(mutex_);
            transactions_[t.trans_id] = t;
            transaction_order_.push_back(t.trans_id);
        };
        return reply;
    }
    transactions_[t.trans_id] = t;
    transaction_order_.push_back(t.trans_id);
    if (response_code != "1") {
        return reply;
    }
    switch (planned) {
        case fault::late:
            reply.delay = std::chrono::milliseconds(late_ms_.load());
            break;
        case fault::reset:
            reply.action = fake_reply::kind::reset;
            break;
        case fault::error_500:
            return fake_reply{fake_reply::kind::respond,
                              500,
                              "<html><body>Internal Server Error</body></html>",
                              "text/html",
                              {}};
        case fault::none:
        case fault::slow:
        case fault::lost:
            break;
    }
    return reply;
}

fake_reply authorizenet_server::reverse(const json::object& tr, const std::string& type,
                                        const std::string& ref_id) {
    auto original = transactions_.find(text(tr, "refTransId"));
    if (original == transactions_.end() || original->second.type != "authCaptureTransaction") {
        return transaction_answer("3", 16, "0", text(tr, "refTransId"), "", "", ref_id);
    }
    auto& o = original->second;
    if (type == "voidTransaction") {
        if (o.status == "voided") {
            return transaction_answer("3", 310, "0", o.trans_id, o.account_type, o.last4, ref_id);
        }
        if (o.status != "capturedPendingSettlement" && o.status != "FDSPendingReview") {
            return transaction_answer("3", 16, "0", o.trans_id, o.account_type, o.last4, ref_id);
        }
        o.status = "voided";
        return transaction_answer("1", 1, o.trans_id, o.trans_id, o.account_type, o.last4, ref_id);
    }
    // A refund names the card: by its profile, or by its last 4 digits and "XXXX".
    auto amount = model::parse_decimal(text(tr, "amount"), *model::currency::parse("USD"));
    const auto* profile = child(tr, "profile");
    const auto* payment_profile = profile ? child(*profile, "paymentProfile") : nullptr;
    const auto* payment = child(tr, "payment");
    const auto* credit_card = payment ? child(*payment, "creditCard") : nullptr;
    if (!amount || *amount <= 0 || (!payment_profile && !credit_card)) {
        ++rejected_;
        return error("E00003", "amount and a payment or profile are required for a refund.");
    }
    bool same_card = payment_profile
                         ? text(*profile, "customerProfileId") == o.customer_profile_id &&
                               text(*payment_profile, "paymentProfileId") == o.payment_profile_id
                         : text(*credit_card, "cardNumber") == o.last4 &&
                               text(*credit_card, "expirationDate") == "XXXX";
    if (!same_card) {
        return transaction_answer("3", 54, "0", o.trans_id, o.account_type, o.last4, ref_id);
    }
    if (o.status != "settledSuccessfully") {
        return transaction_answer("3", 54, "0", o.trans_id, o.account_type, o.last4, ref_id);
    }
    std::int64_t refunded = 0;
    for (const auto& [id, t] : transactions_) {
        if (t.type == "refundTransaction" && t.ref_trans_id == o.trans_id) {
            refunded += t.amount_cents;
        }
    }
    const auto now = std::chrono::steady_clock::now();
    for (const auto& [id, earlier] : transactions_) {
        // The same charge and amount refunded within two minutes: a duplicate (reason 11).
        if (earlier.type == "refundTransaction" && earlier.ref_trans_id == o.trans_id &&
            earlier.amount_cents == *amount && now - earlier.submitted < duplicate_window) {
            return transaction_answer("3", 11, "0", o.trans_id, o.account_type, o.last4, ref_id);
        }
    }
    if (refunded + *amount > o.amount_cents) {
        return transaction_answer("3", 55, "0", o.trans_id, o.account_type, o.last4, ref_id);
    }
    transaction t;
    t.trans_id = std::to_string(++next_id_);
    t.type = "refundTransaction";
    t.status = "refundPendingSettlement";
    t.amount_cents = *amount;
    const auto* order = child(tr, "order");
    t.invoice = order ? text(*order, "invoiceNumber") : "";
    t.customer_profile_id = o.customer_profile_id;
    t.payment_profile_id = o.payment_profile_id;
    t.ref_trans_id = o.trans_id;
    t.submit_time_utc = now_utc();
    t.account_type = o.account_type;
    t.last4 = o.last4;
    transactions_[t.trans_id] = t;
    transaction_order_.push_back(t.trans_id);
    auto reply =
        transaction_answer("1", 1, t.trans_id, o.trans_id, o.account_type, o.last4, ref_id);
    if (plan_ && plan_(t.invoice) == fault::late) {
        reply.delay = std::chrono::milliseconds(late_ms_.load());  // refunded, answered late
    }
    return reply;
}

fake_reply authorizenet_server::transaction_details(const json::object& r) {
    auto it = transactions_.find(text(r, "transId"));
    if (it == transactions_.end()) {
        return error("E00040", "The record cannot be found.");
    }
    const auto& t = it->second;
    json::object details{
        {"transId", t.trans_id},
        {"submitTimeUTC", t.submit_time_utc},
        {"transactionType", t.type},
        {"transactionStatus", t.status},
        {"responseCode", "#num#1"},
        {"authAmount", num(t.amount_cents)},
        {"settleAmount", num(t.amount_cents)},
        {"order", json::object{{"invoiceNumber", t.invoice}}},
        {"profile", json::object{{"customerProfileId", t.customer_profile_id},
                                 {"customerPaymentProfileId", t.payment_profile_id}}}};
    if (!t.ref_trans_id.empty()) {
        details["refTransId"] = t.ref_trans_id;
    }
    if (auto b = batches_.find(t.batch_id); b != batches_.end()) {
        details["batch"] = json::object{{"batchId", t.batch_id},
                                        {"settlementTimeUTC", b->second.settlement_time_utc},
                                        {"settlementState", "settledSuccessfully"}};
    }
    return ok(json::object{{"transaction", details}});
}

json::object authorizenet_server::summary_json(const transaction& t) const {
    return json::object{
        {"transId", t.trans_id},
        {"submitTimeUTC", t.submit_time_utc},
        {"submitTimeLocal", t.submit_time_utc.substr(0, 19)},
        {"transactionStatus", t.status},
        {"invoiceNumber", t.invoice},
        {"firstName", ""},
        {"lastName", ""},
        {"accountType", t.account_type},
        {"accountNumber", "XXXX" + t.last4},
        {"settleAmount", num(t.amount_cents)},
        {"marketType", "eCommerce"},
        {"product", "Card Not Present"},
        {"profile", json::object{{"customerProfileId", t.customer_profile_id},
                                 {"customerPaymentProfileId", t.payment_profile_id}}}};
}

fake_reply authorizenet_server::transaction_list(const std::vector<const transaction*>& all,
                                                 const json::object& r) {
    std::size_t limit = 1000;
    std::size_t offset = 1;
    if (const auto* paging = child(r, "paging")) {
        try {
            limit = std::stoul(text(*paging, "limit"));
            offset = std::stoul(text(*paging, "offset"));
        } catch (const std::exception&) {
            limit = 0;
        }
        if (limit < 1 || limit > 1000 || offset < 1 || offset > 100000) {
            ++rejected_;
            return error("E00003", "The 'paging' element is invalid.");
        }
    }
    auto sorted = all;
    const auto* sorting = child(r, "sorting");
    bool descending = sorting && sorting->contains("orderDescending") &&
                      sorting->at("orderDescending") == json::value(true);
    if (descending) {
        std::reverse(sorted.begin(), sorted.end());
    }
    json::array page;
    for (std::size_t i = (offset - 1) * limit; i < sorted.size() && page.size() < limit; ++i) {
        page.push_back(summary_json(*sorted[i]));
    }
    json::object body{{"totalNumInResultSet", "#num#" + std::to_string(sorted.size())}};
    if (!page.empty()) {
        body["transactions"] = std::move(page);
    }
    return ok(std::move(body));
}

fake_reply authorizenet_server::settled_batches(const json::object& r) {
    auto first = text(r, "firstSettlementDate");
    auto last = text(r, "lastSettlementDate");
    json::array list;
    for (const auto& [id, b] : batches_) {
        if ((first.empty() || b.settlement_time_utc >= first) &&
            (last.empty() || b.settlement_time_utc <= last)) {
            list.push_back(json::object{{"batchId", id},
                                        {"settlementTimeUTC", b.settlement_time_utc},
                                        {"settlementTimeLocal", b.settlement_time_utc},
                                        {"settlementState", "settledSuccessfully"},
                                        {"paymentMethod", "creditCard"},
                                        {"marketType", "eCommerce"},
                                        {"product", "Card Not Present"}});
        }
    }
    if (list.empty()) {
        return answer({}, true, "I00004", "No records found.");
    }
    return ok(json::object{{"batchList", list}});
}

}  // namespace billpay::test
