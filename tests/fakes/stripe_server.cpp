#include "tests/fakes/stripe_server.hpp"

#include <boost/json/serialize.hpp>
#include <boost/url/decode_view.hpp>
#include <boost/url/parse.hpp>
#include <set>

#include "tokenizer/luhn.hpp"

namespace billpay::test {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

std::string decode(std::string_view text) {
    std::string plus_as_space(text);
    for (auto& c : plus_as_space) {
        if (c == '+') {
            c = ' ';
        }
    }
    boost::urls::decode_view decoded(plus_as_space);
    return std::string(decoded.begin(), decoded.end());
}

/// application/x-www-form-urlencoded -> key/value (repeated keys: the last wins, but
/// payment_method_types[] is kept as a list joined by ',').
std::map<std::string, std::string> parse_form(std::string_view body) {
    std::map<std::string, std::string> form;
    while (!body.empty()) {
        auto amp = body.find('&');
        auto pair = body.substr(0, amp);
        auto eq = pair.find('=');
        auto key = decode(pair.substr(0, eq));
        auto value = eq == std::string_view::npos ? std::string() : decode(pair.substr(eq + 1));
        if (key.ends_with("[]") && form.contains(key)) {
            form[key] += "," + value;
        } else {
            form[key] = value;
        }
        body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    }
    return form;
}

fake_reply stripe_error(int status, const char* type, const std::string& code,
                        const std::string& message, const std::string& decline_code = "",
                        const std::string& param = "") {
    json::object error{{"type", type}, {"message", message}};
    if (!code.empty()) {
        error["code"] = code;
    }
    if (!decline_code.empty()) {
        error["decline_code"] = decline_code;
    }
    if (!param.empty()) {
        error["param"] = param;
    }
    return fake_reply::json(status, json::serialize(json::object{{"error", error}}));
}

/// Stripe's test cards: what confirming a PaymentIntent with this number does.
std::string outcome_of(const std::string& number) {
    if (number == "4000000000000002") return "generic_decline";
    if (number == "4000000000009995") return "insufficient_funds";
    if (number == "4000000000000069") return "expired_card";
    if (number == "4000000000000127") return "incorrect_cvc";
    if (number == "4000000000000119") return "processing_error";
    return "";
}

}  // namespace

stripe_server::stripe_server(tls_files certificate, std::string secret_key, std::string api_version)
    : secret_key_(std::move(secret_key)),
      api_version_(std::move(api_version)),
      server_(std::make_unique<fake_https_server>(
          std::move(certificate), [this](const fake_request& req) { return handle(req); })) {}

void stripe_server::set_fault_plan(fault_plan plan) {
    std::lock_guard lock(mutex_);
    plan_ = std::move(plan);
}

std::string stripe_server::api_base() const {
    return "https://localhost:" + std::to_string(server_->port());
}

std::map<std::string, int> stripe_server::charges() const {
    std::lock_guard lock(mutex_);
    return charges_;
}

std::map<std::string, std::string> stripe_server::intents() const {
    std::lock_guard lock(mutex_);
    return intents_;
}

fake_reply stripe_server::handle(const fake_request& req) {
    if (req[http::field::authorization] != "Bearer " + secret_key_) {
        ++rejected_;
        return stripe_error(401, "invalid_request_error", "", "Invalid API Key provided.");
    }
    if (req["Stripe-Version"] != api_version_) {
        ++rejected_;
        return stripe_error(400, "invalid_request_error", "", "Unexpected Stripe-Version.");
    }
    std::string target(req.target());
    {
        std::lock_guard lock(mutex_);
        calls_.push_back(std::string(req.method_string()) + " " +
                         target.substr(0, target.find('?')));
    }
    if (req.method() == http::verb::get && target.starts_with("/v1/customers/search?")) {
        return search_customers(target);
    }
    if (req.method() == http::verb::get && target.starts_with("/v1/payment_intents/search?")) {
        return search(target);
    }
    if (req.method() == http::verb::get && target.starts_with("/v1/refunds?")) {
        return list_refunds(target);
    }
    if (req.method() == http::verb::get && target.starts_with("/v1/customers/")) {
        std::lock_guard lock(mutex_);
        return customer_json(target.substr(std::string("/v1/customers/").size()));
    }
    if (req.method() == http::verb::get && target.starts_with("/v1/payment_methods/")) {
        std::lock_guard lock(mutex_);
        auto id = target.substr(std::string("/v1/payment_methods/").size());
        if (!methods_.contains(id)) {
            return stripe_error(404, "invalid_request_error", "resource_missing",
                                "No such PaymentMethod: '" + id + "'");
        }
        return method_json(id);
    }
    if (req.method() != http::verb::post ||
        req[http::field::content_type] != "application/x-www-form-urlencoded") {
        ++rejected_;
        return stripe_error(400, "invalid_request_error", "", "Unexpected request.");
    }
    auto form = parse_form(req.body());
    std::string key(req["Idempotency-Key"]);
    std::lock_guard lock(mutex_);
    bodies_.push_back(req.body());
    if (!key.empty()) {
        auto it = idempotent_.find(key);
        if (it != idempotent_.end() &&
            std::chrono::steady_clock::now() - it->second.at >= std::chrono::hours(24)) {
            idempotent_.erase(it);  // Stripe keeps a key 24 hours, then forgets it
            it = idempotent_.end();
        }
        if (it != idempotent_.end()) {
            if (it->second.params != target + "?" + req.body()) {
                return stripe_error(400, "idempotency_error", "",
                                    "Keys for idempotent requests can only be used with the same "
                                    "parameters they were first used with.");
            }
            auto replay = it->second.reply;
            replay.delay = {};
            replay.action = fake_reply::kind::respond;
            replay.headers.emplace_back("Idempotent-Replayed", "true");
            return replay;
        }
    }
    fake_reply reply;
    executed_ = true;
    if (target == "/v1/payment_methods") {
        reply = create_payment_method(form);
    } else if (target == "/v1/payment_intents") {
        reply = create_payment_intent(form, key);
    } else if (target == "/v1/refunds") {
        reply = create_refund(form);
    } else if (target == "/v1/customers") {
        reply = create_customer(form);
    } else if (target.starts_with("/v1/payment_methods/") && target.ends_with("/attach")) {
        reply = attach(target.substr(20, target.size() - 20 - 7), form);
    } else if (target.starts_with("/v1/payment_methods/") && target.ends_with("/detach")) {
        reply = detach(target.substr(20, target.size() - 20 - 7));
    } else {
        ++rejected_;
        reply = stripe_error(404, "invalid_request_error", "", "Unrecognized request URL.");
    }
    if (!key.empty() && executed_) {
        idempotent_[key] = stored{target + "?" + req.body(), reply};
    }
    return reply;
}

std::vector<std::string> stripe_server::bodies() const {
    std::lock_guard lock(mutex_);
    return bodies_;
}

std::vector<std::pair<std::string, std::string>> stripe_server::billing_details() const {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& [id, m] : methods_) {
        if (!m.billing_name.empty() || !m.billing_postal_code.empty()) {
            out.emplace_back(m.billing_name, m.billing_postal_code);
        }
    }
    return out;
}

fake_reply stripe_server::create_payment_method(const std::map<std::string, std::string>& form) {
    for (const char* required :
         {"type", "card[number]", "card[exp_month]", "card[exp_year]", "card[cvc]"}) {
        if (!form.contains(required)) {
            ++rejected_;
            executed_ = false;  // parameter validation: nothing is saved under the key
            return stripe_error(400, "invalid_request_error", "parameter_missing",
                                std::string("Missing required param: ") + required, "", required);
        }
    }
    // Stripe refuses a parameter it does not know (parameter_unknown) before anything else.
    static const std::set<std::string> known = {"type",
                                                "card[number]",
                                                "card[exp_month]",
                                                "card[exp_year]",
                                                "card[cvc]",
                                                "billing_details[name]",
                                                "billing_details[email]",
                                                "billing_details[phone]",
                                                "billing_details[address][line1]",
                                                "billing_details[address][line2]",
                                                "billing_details[address][city]",
                                                "billing_details[address][state]",
                                                "billing_details[address][postal_code]",
                                                "billing_details[address][country]"};
    for (const auto& [name, value] : form) {
        if (!known.contains(name) && !name.starts_with("metadata[")) {
            ++rejected_;
            executed_ = false;
            return stripe_error(400, "invalid_request_error", "parameter_unknown",
                                "Received unknown parameter: " + name, "", name);
        }
    }
    const auto& number = form.at("card[number]");
    if (form.at("type") != "card" || !tokenizer::luhn_valid(number)) {
        return stripe_error(402, "card_error", "incorrect_number", "Your card number is incorrect.",
                            "", "number");
    }
    auto id = add_method(number, std::stoi(form.at("card[exp_month]")),
                         std::stoi(form.at("card[exp_year]")));
    auto& made = methods_.at(id);
    if (auto name = form.find("billing_details[name]"); name != form.end()) {
        made.billing_name = name->second;
    }
    if (auto zip = form.find("billing_details[address][postal_code]"); zip != form.end()) {
        made.billing_postal_code = zip->second;
    }
    return method_json(id);
}

std::string stripe_server::add_method(const std::string& number, int exp_month, int exp_year) {
    std::string id = "pm_fake" + std::to_string(++next_id_);
    std::string brand = number.starts_with("4")    ? "visa"
                        : number.starts_with("5")  ? "mastercard"
                        : number.starts_with("37") ? "amex"
                                                   : "discover";
    // Stripe's fingerprint: the same for the same number, meaningless elsewhere.
    std::string fingerprint = "fp" + std::to_string(std::hash<std::string>{}(number) % 1000000007);
    methods_[id] = method{outcome_of(number), brand,    number.substr(number.size() - 4),
                          exp_month,          exp_year, fingerprint};
    return id;
}

fake_reply stripe_server::method_json(const std::string& id) const {
    const auto& m = methods_.at(id);
    json::value owner = m.customer.empty() ? json::value(nullptr) : json::value(m.customer);
    json::object card{{"brand", m.brand},
                      {"last4", m.last4},
                      {"exp_month", m.exp_month},
                      {"exp_year", m.exp_year},
                      {"fingerprint", m.fingerprint}};
    auto or_null = [](const std::string& v) {
        return v.empty() ? json::value(nullptr) : json::value(v);
    };
    json::object billing{{"address", json::object{{"city", nullptr},
                                                  {"country", nullptr},
                                                  {"line1", nullptr},
                                                  {"line2", nullptr},
                                                  {"postal_code", or_null(m.billing_postal_code)},
                                                  {"state", nullptr}}},
                         {"email", nullptr},
                         {"name", or_null(m.billing_name)},
                         {"phone", nullptr}};
    return fake_reply::json(200, json::serialize(json::object{{"id", id},
                                                              {"object", "payment_method"},
                                                              {"type", "card"},
                                                              {"billing_details", billing},
                                                              {"customer", owner},
                                                              {"card", card}}));
}

std::string stripe_server::browser_payment_method(const std::string& number, int exp_month,
                                                  int exp_year) {
    std::lock_guard lock(mutex_);
    return add_method(number, exp_month, exp_year);
}

fake_reply stripe_server::create_payment_intent(const std::map<std::string, std::string>& form,
                                                const std::string& key) {
    for (const char* required : {"amount", "currency", "payment_method", "confirm",
                                 "payment_method_types[]", "metadata[billpay_payment_id]"}) {
        if (!form.contains(required)) {
            ++rejected_;
            executed_ = false;  // parameter validation: nothing is saved under the key
            return stripe_error(400, "invalid_request_error", "parameter_missing",
                                std::string("Missing required param: ") + required, "", required);
        }
    }
    if (key.empty() || form.at("confirm") != "true" ||
        form.at("payment_method_types[]") != "card") {
        ++rejected_;
        executed_ = false;
        return stripe_error(400, "invalid_request_error", "", "Unexpected parameters.");
    }
    const auto& planned_for = form.at("metadata[billpay_payment_id]");
    const fault planned = plan_ ? plan_(planned_for) : fault::none;
    if (planned == fault::rate_limited) {
        executed_ = false;  // refused before anything ran: nothing saved, nothing charged
        return stripe_error(429, "invalid_request_error", "rate_limit",
                            "Too many requests hit the API too quickly.");
    }
    auto method = methods_.find(form.at("payment_method"));
    if (method == methods_.end()) {
        return stripe_error(400, "invalid_request_error", "resource_missing",
                            "No such PaymentMethod.", "", "payment_method");
    }
    auto& pm = method->second;
    const std::string named = form.contains("customer") ? form.at("customer") : "";
    if (!named.empty() && !customers_.contains(named)) {
        return stripe_error(400, "invalid_request_error", "resource_missing",
                            "No such customer: '" + named + "'", "", "customer");
    }
    if (pm.spent) {
        return stripe_error(
            400, "invalid_request_error", "",
            "The provided PaymentMethod was previously used with a PaymentIntent without "
            "Customer attachment, shared with a connected account without Customer attachment, "
            "or was detached from a Customer. It may not be used again. To use a PaymentMethod "
            "multiple times, you must attach it to a Customer first.",
            "", "payment_method");
    }
    if (!pm.customer.empty() && named != pm.customer) {
        return stripe_error(400, "invalid_request_error", "",
                            "The provided PaymentMethod belongs to a Customer (" + pm.customer +
                                "). Please include the Customer in the `customer` parameter on "
                                "the PaymentIntent.",
                            "", "customer");
    }
    if (pm.customer.empty()) {
        pm.spent = true;  // used without a Customer: once, whatever the card answers
    }
    const auto& payment_id = form.at("metadata[billpay_payment_id]");
    std::string pi = "pi_fake" + std::to_string(++next_id_);
    json::object intent{{"id", pi},
                        {"object", "payment_intent"},
                        {"amount", std::stoll(form.at("amount"))},
                        {"currency", form.at("currency")},
                        {"metadata", json::object{{"billpay_payment_id", payment_id}}}};
    const auto& outcome = method->second.outcome;
    if (outcome == "processing_error") {
        return stripe_error(402, "card_error", "processing_error",
                            "An error occurred while processing your card.");
    }
    if (!outcome.empty()) {
        std::string code = outcome == "expired_card" || outcome == "incorrect_cvc"
                               ? outcome
                               : std::string("card_declined");
        // Stripe keeps the PaymentIntent the card refused, waiting for another card.
        intent["status"] = "requires_payment_method";
        intent["last_payment_error"] =
            json::object{{"type", "card_error"}, {"code", code}, {"decline_code", outcome}};
        all_intents_[payment_id] = intent;
        return stripe_error(402, "card_error", code, "Your card was declined.", outcome);
    }
    intent["status"] = "succeeded";
    all_intents_[payment_id] = intent;
    ++charges_[payment_id];
    intents_[payment_id] = pi;
    charged_amounts_[payment_id] = std::stoll(form.at("amount"));
    auto reply = fake_reply::json(200, json::serialize(intent));
    switch (planned) {
        case fault::late:
            reply.delay = std::chrono::milliseconds(late_ms_.load());
            break;
        case fault::reset:
            reply.action = fake_reply::kind::reset;
            break;
        case fault::error_500: {
            // Stripe keeps and replays a 500 under its key: the charge is found by search.
            return stripe_error(500, "api_error", "", "An unknown error occurred.");
        }
        case fault::none:
        case fault::rate_limited:
            break;
    }
    return reply;
}

fake_reply stripe_server::create_refund(const std::map<std::string, std::string>& form) {
    if (!form.contains("payment_intent")) {
        ++rejected_;
        return stripe_error(400, "invalid_request_error", "parameter_missing",
                            "Missing required param: payment_intent.", "", "payment_intent");
    }
    std::string payment_id;
    for (const auto& [pay, pi] : intents_) {
        if (pi == form.at("payment_intent")) {
            payment_id = pay;
        }
    }
    if (payment_id.empty()) {
        return stripe_error(400, "invalid_request_error", "resource_missing",
                            "No such payment_intent.", "", "payment_intent");
    }
    auto amount = form.contains("amount") ? std::stoll(form.at("amount")) : 0;
    auto& refunded = refunded_[payment_id];
    if (amount <= 0 || refunded + amount > charged_amounts_[payment_id]) {
        return stripe_error(400, "invalid_request_error", "amount_too_large",
                            "Refund amount is greater than unrefunded amount on charge.", "",
                            "amount");
    }
    refunded += amount;
    std::string id = "re_fake" + std::to_string(++next_id_);
    const auto refund_id = form.contains("metadata[billpay_refund_id]")
                               ? form.at("metadata[billpay_refund_id]")
                               : std::string();
    refunds_.push_back(refund{id, form.at("payment_intent"), amount, refund_id});
    json::object metadata;
    if (!refund_id.empty()) {
        metadata["billpay_refund_id"] = refund_id;
    }
    return fake_reply::json(
        200, json::serialize(json::object{{"id", id},
                                          {"object", "refund"},
                                          {"amount", amount},
                                          {"metadata", metadata},
                                          {"payment_intent", form.at("payment_intent")},
                                          {"status", "succeeded"}}));
}

fake_reply stripe_server::list_refunds(const std::string& target) {
    auto url = boost::urls::parse_origin_form(target);
    std::string payment_intent;
    for (auto param : url->params()) {
        if (param.key == "payment_intent") {
            payment_intent = param.value;
        }
    }
    json::array data;
    std::lock_guard lock(mutex_);
    for (auto it = refunds_.rbegin(); it != refunds_.rend(); ++it) {  // newest first
        if (it->payment_intent != payment_intent) {
            continue;
        }
        json::object metadata;
        if (!it->refund_id.empty()) {
            metadata["billpay_refund_id"] = it->refund_id;
        }
        data.push_back(json::object{{"id", it->id},
                                    {"object", "refund"},
                                    {"amount", it->amount},
                                    {"metadata", metadata},
                                    {"payment_intent", it->payment_intent},
                                    {"status", "succeeded"}});
    }
    return fake_reply::json(
        200, json::serialize(json::object{
                 {"object", "list"}, {"data", data}, {"has_more", false}, {"url", "/v1/refunds"}}));
}

fake_reply stripe_server::customer_json(const std::string& id) const {
    auto it = customers_.find(id);
    if (it == customers_.end()) {
        return stripe_error(404, "invalid_request_error", "resource_missing",
                            "No such customer: '" + id + "'");
    }
    json::object metadata;
    if (!it->second.reference.empty()) {
        metadata["billpay_customer"] = it->second.reference;
    }
    return fake_reply::json(200, json::serialize(json::object{
                                     {"id", id}, {"object", "customer"}, {"metadata", metadata}}));
}

std::map<std::string, std::int64_t> stripe_server::refunded() const {
    std::lock_guard lock(mutex_);
    return refunded_;
}

fake_reply stripe_server::search(const std::string& target) {
    auto url = boost::urls::parse_origin_form(target);
    std::string query;
    for (auto param : url->params()) {
        if (param.key == "query") {
            query = param.value;
        }
    }
    // metadata['billpay_payment_id']:'pay_…'
    auto last = query.rfind('\'');
    auto first = last == std::string::npos ? last : query.rfind('\'', last - 1);
    json::array data;
    if (first != std::string::npos && query.starts_with("metadata['billpay_payment_id']:")) {
        auto payment_id = query.substr(first + 1, last - first - 1);
        std::lock_guard lock(mutex_);
        if (auto it = all_intents_.find(payment_id); it != all_intents_.end()) {
            data.push_back(it->second);
        }
    }
    return fake_reply::json(
        200, json::serialize(json::object{{"object", "search_result"}, {"data", data}}));
}

fake_reply stripe_server::create_customer(const std::map<std::string, std::string>& form) {
    std::string id = "cus_fake" + std::to_string(++next_id_);
    const std::string reference =
        form.contains("metadata[billpay_customer]") ? form.at("metadata[billpay_customer]") : "";
    customers_[id] = customer{reference, std::chrono::steady_clock::now()};
    return fake_reply::json(200, json::serialize(json::object{
                                     {"id", id},
                                     {"object", "customer"},
                                     {"metadata", json::object{{"billpay_customer", reference}}}}));
}

fake_reply stripe_server::search_customers(const std::string& target) {
    auto url = boost::urls::parse_origin_form(target);
    std::string query;
    for (auto param : url->params()) {
        if (param.key == "query") {
            query = param.value;
        }
    }
    constexpr std::string_view prefix = "metadata['billpay_customer']:'";
    json::array data;
    if (!query.starts_with(prefix) || !query.ends_with("'")) {
        ++rejected_;
        return stripe_error(400, "invalid_request_error", "", "Unsupported search query.");
    }
    const auto wanted = query.substr(prefix.size(), query.size() - prefix.size() - 1);
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    for (const auto& [id, c] : customers_) {
        // Not read-after-write: a Customer appears in search only after a while.
        if (c.reference == wanted && now - c.made >= search_lag_) {
            data.push_back(json::object{{"id", id}, {"object", "customer"}});
        }
    }
    return fake_reply::json(
        200, json::serialize(
                 json::object{{"object", "search_result"}, {"data", data}, {"has_more", false}}));
}

fake_reply stripe_server::attach(const std::string& id,
                                 const std::map<std::string, std::string>& form) {
    auto method = methods_.find(id);
    if (method == methods_.end()) {
        return stripe_error(404, "invalid_request_error", "resource_missing",
                            "No such PaymentMethod: '" + id + "'");
    }
    if (!form.contains("customer")) {
        ++rejected_;
        executed_ = false;
        return stripe_error(400, "invalid_request_error", "parameter_missing",
                            "Missing required param: customer.", "", "customer");
    }
    const auto& named = form.at("customer");
    if (!customers_.contains(named)) {
        return stripe_error(400, "invalid_request_error", "resource_missing",
                            "No such customer: '" + named + "'", "", "customer");
    }
    auto& pm = method->second;
    if (pm.spent) {
        return stripe_error(400, "invalid_request_error", "",
                            "This PaymentMethod was previously used without being attached to a "
                            "Customer or was detached from a Customer, and may not be used again.");
    }
    if (!pm.customer.empty() && pm.customer != named) {
        return stripe_error(400, "invalid_request_error", "",
                            "The payment method you provided has already been attached to a "
                            "customer.");
    }
    pm.customer = named;
    return method_json(id);
}

fake_reply stripe_server::detach(const std::string& id) {
    auto method = methods_.find(id);
    if (method == methods_.end()) {
        return stripe_error(404, "invalid_request_error", "resource_missing",
                            "No such PaymentMethod: '" + id + "'");
    }
    auto& pm = method->second;
    if (pm.customer.empty()) {
        return stripe_error(400, "invalid_request_error", "",
                            "The payment method you provided is not attached to a customer so "
                            "detachment is impossible.");
    }
    pm.customer.clear();
    pm.spent = true;  // a detached PaymentMethod can no longer pay or be attached again
    return method_json(id);
}

void stripe_server::set_customer_search_lag(std::chrono::milliseconds lag) {
    std::lock_guard lock(mutex_);
    search_lag_ = lag;
}

void stripe_server::forget_idempotency_keys() {
    std::lock_guard lock(mutex_);
    idempotent_.clear();
}

void stripe_server::pass_time(std::chrono::seconds d) {
    std::lock_guard lock(mutex_);
    for (auto& [key, kept] : idempotent_) {
        kept.at -= d;
    }
}

std::string stripe_server::add_customer(const std::string& billpay_customer_reference) {
    std::lock_guard lock(mutex_);
    std::string id = "cus_fake" + std::to_string(++next_id_);
    customers_[id] = customer{billpay_customer_reference, std::chrono::steady_clock::now()};
    return id;
}

void stripe_server::attach_in_browser(const std::string& payment_method,
                                      const std::string& customer) {
    std::lock_guard lock(mutex_);
    methods_.at(payment_method).customer = customer;
}

std::map<std::string, std::string> stripe_server::customers() const {
    std::lock_guard lock(mutex_);
    std::map<std::string, std::string> out;
    for (const auto& [id, c] : customers_) {
        out[id] = c.reference;
    }
    return out;
}

std::string stripe_server::customer_of(const std::string& payment_method) const {
    std::lock_guard lock(mutex_);
    auto it = methods_.find(payment_method);
    return it == methods_.end() ? std::string() : it->second.customer;
}

std::vector<std::string> stripe_server::calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
}

}  // namespace billpay::test
