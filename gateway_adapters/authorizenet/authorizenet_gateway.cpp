#include "gateway_adapters/authorizenet/authorizenet_gateway.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <stdexcept>

#include "logging/log.hpp"
#include "model/ids.hpp"
#include "model/money.hpp"
#include "model/time.hpp"

namespace billpay::gateway::authorizenet {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;

constexpr int page_size = 1000;  // the largest page Authorize.Net gives
constexpr int max_pages = 50;    // 50,000 transactions: more than a utility makes in a day

std::string text_of(const json::object& object, std::string_view key) {
    auto it = object.find(key);
    return it != object.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                         : std::string();
}

/// A repeated element, written by Authorize.Net as an array (or, for one, as an object).
std::vector<const json::object*> all_of_element(const json::value* v) {
    std::vector<const json::object*> out;
    if (v == nullptr) {
        return out;
    }
    if (v->is_array()) {
        for (const auto& item : v->as_array()) {
            if (item.is_object()) {
                out.push_back(&item.as_object());
            }
        }
    } else if (v->is_object()) {
        out.push_back(&v->as_object());
    }
    return out;
}

/// The numeric id in "A duplicate record with ID 1234 already exists." (E00039 on
/// createCustomerProfileRequest, which names the existing profile only in its text).
std::string duplicate_profile_id(std::string_view text) {
    auto at = text.find("ID ");
    if (at == std::string_view::npos) {
        return {};
    }
    auto digits = text.substr(at + 3);
    auto end = digits.find_first_not_of("0123456789");
    return std::string(digits.substr(0, end));
}

/// What a transaction's status says of a charge.
std::optional<outcome> charge_state(std::string_view status) {
    static const std::set<std::string_view> charged = {"authorizedPendingCapture",
                                                       "capturedPendingSettlement",
                                                       "settledSuccessfully",
                                                       "approvedReview",
                                                       "pendingFinalSettlement",
                                                       "pendingSettlement",
                                                       "couldNotVoid"};
    static const std::set<std::string_view> undecided = {
        "FDSPendingReview", "FDSAuthorizedPendingReview", "underReview"};
    static const std::set<std::string_view> refused = {"declined", "failedReview", "expired"};
    static const std::set<std::string_view> not_charged = {"voided", "generalError",
                                                           "communicationError", "settlementError"};
    if (charged.contains(status)) return outcome::approved;
    if (undecided.contains(status)) return outcome::unknown;
    if (refused.contains(status)) return outcome::declined;
    if (not_charged.contains(status)) return outcome::failed;
    return std::nullopt;  // a refund, or a status billpayd does not know: not a charge
}

transaction_summary summary_of(const json::object& t) {
    transaction_summary s{text_of(t, "transId"),
                          text_of(t, "transactionStatus"),
                          text_of(t, "invoiceNumber"),
                          text_of(t, "submitTimeUTC"),
                          "",
                          text_of(t, "accountType"),
                          "",
                          ""};
    // A JSON number in Authorize.Net's answer, kept as its text by parse_response.
    s.settle_amount = text_of(t, "settleAmount");
    if (auto* profile = t.if_contains("profile"); profile && profile->is_object()) {
        s.customer_profile_id = text_of(profile->as_object(), "customerProfileId");
        s.payment_profile_id = text_of(profile->as_object(), "customerPaymentProfileId");
    }
    return s;
}

/// The settled batches to search for something done at `since` (RFC 3339): from that day for
/// 31 days (Authorize.Net's longest range), as firstSettlementDate and lastSettlementDate.
std::optional<std::pair<std::string, std::string>> settlement_range_from(std::string_view since) {
    using namespace std::chrono;
    if (since.size() < 10) {
        return std::nullopt;
    }
    int y = 0;
    unsigned m = 0;
    unsigned d = 0;
    if (std::sscanf(std::string(since.substr(0, 10)).c_str(), "%d-%u-%u", &y, &m, &d) != 3) {
        return std::nullopt;
    }
    year_month_day first{year(y), month(m), day(d)};
    if (!first.ok()) {
        return std::nullopt;
    }
    year_month_day last{sys_days(first) + days(30)};
    char from[32];
    char to[32];
    std::snprintf(from, sizeof from, "%04d-%02u-%02uT00:00:00Z", int(first.year()),
                  unsigned(first.month()), unsigned(first.day()));
    std::snprintf(to, sizeof to, "%04d-%02u-%02uT23:59:59Z", int(last.year()),
                  unsigned(last.month()), unsigned(last.day()));
    return std::pair{std::string(from), std::string(to)};
}

outcome incomplete(https::send_stage stage) {
    return stage == https::send_stage::not_sent ? outcome::failed : outcome::unknown;
}

/// At most `max` bytes of `text`, not cutting a UTF-8 character in two (Authorize.Net's field
/// lengths).
std::string_view utf8_prefix(std::string_view text, std::size_t max) {
    if (text.size() <= max) {
        return text;
    }
    std::size_t end = max;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
        --end;
    }
    return text.substr(0, end);
}

}  // namespace

authorizenet_gateway::authorizenet_gateway(const config::authorizenet_settings& settings,
                                           asio::any_io_executor executor)
    : settings_(settings),
      endpoint_([&] {
          auto parsed = https::endpoint::parse(settings.endpoint);
          if (!parsed) {
              throw std::invalid_argument("gateway.authorizenet.endpoint is not an https URL");
          }
          return *parsed;
      }()),
      client_(std::move(executor),
              https::client::options{settings.ca_file, 64, settings.keep_alive}) {}

asio::awaitable<authorizenet_gateway::exchange> authorizenet_gateway::call(
    std::string_view request_name, const write_fn& write, deadline by) {
    https::client::request req;
    req.method(http::verb::post);
    req.target(endpoint_.target);
    req.set(http::field::content_type, "application/json");
    {
        request_writer w(req.body(), request_name, settings_.login_id.reveal(),
                         settings_.transaction_key.reveal());
        write(w);
        w.finish();
    }
    auto cap = std::chrono::steady_clock::now() + settings_.timeout;
    // Safe to send again after a dead kept-alive connection: reads are reads, a profile made
    // twice is refused as a duplicate (E00039), and a transaction repeated within
    // Authorize.Net's duplicate window (two minutes) is refused as one (reason 11).
    auto answer =
        co_await client_.send(endpoint_, req, std::min(by, cap), https::resend::if_unanswered);
    exchange e;
    e.stage = answer.stage;
    e.http_status = answer.status;
    e.error = answer.error ? answer.error.message() : std::string();
    if (answer.stage == https::send_stage::completed) {
        e.answer = parse_response(answer.body);
        if (answer.status != 200) {
            e.error = "HTTP " + std::to_string(answer.status);
        } else if (!e.answer.parsed) {
            e.error = "the answer was not Authorize.Net JSON";
        }
    }
    co_return e;
}

asio::awaitable<tokenize_result> authorizenet_gateway::make_payment_profile(
    const std::string& customer_reference, token_use use, const write_fn& write_payment,
    const write_fn& write_bill_to, deadline by) {
    const bool once = use == token_use::one_payment;
    // A one-payment profile's customer id is random (20 characters, 90 bits): it names no one.
    const std::string merchant_customer_id =
        once ? model::new_id("o").substr(0, 20) : merchant_customer_id_for(customer_reference);
    auto failure = [](const exchange& e, const char* what) {
        if (e.stage != https::send_stage::completed || e.http_status != 200 || !e.answer.parsed) {
            return tokenize_result{outcome::failed, "", "processing_error",
                                   std::string(what) + ": " + e.error};
        }
        auto m = map_message_code(e.answer.code, e.answer.text, false);
        return tokenize_result{m.result == outcome::declined ? outcome::declined : outcome::failed,
                               "", m.decline_code, m.message};
    };

    // A new customer profile with the card as its first payment profile.
    const write_fn new_profile = [&](request_writer& w) {
        w.open("profile").field("merchantCustomerId", merchant_customer_id);
        w.field("description", once ? "billpayd one payment" : "billpayd account");
        w.open("paymentProfiles").field("customerType", "individual");
        if (write_bill_to) {
            write_bill_to(w);
        }
        w.open("payment");
        write_payment(w);
        w.close().close().close();
        w.field("validationMode", "none");
    };
    auto created = co_await call("createCustomerProfileRequest", new_profile, by);
    if (created.answer.result_ok) {
        const auto& body = created.answer.body;
        std::string profile_id = text_of(body, "customerProfileId");
        std::string payment_profile_id;
        if (auto* list = body.if_contains("customerPaymentProfileIdList");
            list && list->is_array() && !list->as_array().empty() &&
            list->as_array().front().is_string()) {
            payment_profile_id = std::string(list->as_array().front().as_string());
        }
        profile_token token{profile_id, payment_profile_id, once};
        if (!profile_token::parse(token.to_string())) {
            co_return tokenize_result{outcome::failed, "", "processing_error",
                                      "Authorize.Net answered without profile ids"};
        }
        co_return tokenize_result{outcome::approved, token.to_string(), "", ""};
    }
    if (once || created.answer.code != "E00039") {
        co_return failure(created, "createCustomerProfileRequest");
    }

    // The account has a profile already: add the card to it (Authorize.Net answers E00039 with
    // the existing payment profile when the card is in it already).
    const std::string profile_id = duplicate_profile_id(created.answer.text);
    if (profile_id.empty()) {
        co_return tokenize_result{outcome::failed, "", "processing_error",
                                  "E00039 without a profile id: " + created.answer.text};
    }
    const write_fn add_payment_profile = [&](request_writer& w) {
        w.field("customerProfileId", profile_id);
        w.open("paymentProfile").field("customerType", "individual");
        if (write_bill_to) {
            write_bill_to(w);
        }
        w.open("payment");
        write_payment(w);
        w.close().close();
        w.field("validationMode", "none");
    };
    auto added = co_await call("createCustomerPaymentProfileRequest", add_payment_profile, by);
    bool duplicate = added.answer.code == "E00039";
    if (added.answer.code == "E00042") {
        // Ten payment profiles already: Authorize.Net's limit per customer, the customer's to
        // lift (remove a saved card), not an outage.
        co_return tokenize_result{outcome::declined, "", std::string(too_many_cards),
                                  "E00042 " + added.answer.text};
    }
    if (!added.answer.result_ok && !duplicate) {
        co_return failure(added, "createCustomerPaymentProfileRequest");
    }
    profile_token token{profile_id, text_of(added.answer.body, "customerPaymentProfileId")};
    if (!profile_token::parse(token.to_string())) {
        co_return tokenize_result{outcome::failed, "", "processing_error",
                                  "Authorize.Net answered without a payment profile id"};
    }
    tokenize_result result{outcome::approved, token.to_string(), "", ""};
    result.reused = duplicate;
    co_return result;
}

asio::awaitable<tokenize_result> authorizenet_gateway::tokenize(
    const tokenizer::card_data& card, const std::string& customer_reference, token_use use,
    deadline by) {
    const write_fn write_card = [&card](request_writer& w) {
        // The expiry is card data too: formatted into a buffer that is wiped.
        char expiry[16];
        std::snprintf(expiry, sizeof expiry, "%04d-%02d", card.exp_year(), card.exp_month());
        w.open("creditCard")
            .field("cardNumber", card.number())
            .field("expirationDate", expiry)
            .field("cardCode", card.cvc())
            .close();
        OPENSSL_cleanse(expiry, sizeof expiry);
    };
    // The cardholder's name and postal code, when the portal sent them, go only here: for
    // Authorize.Net's address (AVS) and name checks. billpayd keeps neither.
    write_fn write_bill_to;
    if (!card.name().empty() || !card.postal_code().empty()) {
        write_bill_to = [&card](request_writer& w) {
            const std::string_view name = card.name();
            const auto space = name.rfind(' ');
            const std::string_view first =
                space == std::string_view::npos ? std::string_view() : name.substr(0, space);
            const std::string_view last =
                space == std::string_view::npos ? name : name.substr(space + 1);
            w.open("billTo");
            if (!first.empty()) {
                w.field("firstName", utf8_prefix(first, 50));
            }
            if (!last.empty()) {
                w.field("lastName", utf8_prefix(last, 50));
            }
            if (!card.postal_code().empty()) {
                w.field("zip", utf8_prefix(card.postal_code(), 20));
            }
            w.close();
        };
    }
    co_return co_await make_payment_profile(customer_reference, use, write_card, write_bill_to, by);
}

asio::awaitable<token_description> authorizenet_gateway::adopt_token(
    const browser_token& browser, const std::string& customer_reference, token_use use,
    deadline by) {
    token_description out;
    if (!browser.is_opaque_data() || browser.descriptor.empty() || browser.value.empty()) {
        out.result = outcome::declined;
        out.message = "Authorize.Net takes Accept.js opaqueData, not a token id";
        co_return out;
    }
    const write_fn write_opaque = [&browser](request_writer& w) {
        w.open("opaqueData")
            .field("dataDescriptor", browser.descriptor)
            .field("dataValue", browser.value)
            .close();
    };
    auto made = co_await make_payment_profile(customer_reference, use, write_opaque, {}, by);
    if (made.result != outcome::approved) {
        out.result = made.result;
        out.decline_code = made.decline_code;
        out.message = made.message;
        co_return out;
    }
    auto token = *profile_token::parse(made.token);
    const write_fn read_profile = [&token](request_writer& w) {
        w.field("customerProfileId", token.customer_profile_id)
            .field("customerPaymentProfileId", token.payment_profile_id)
            .flag("unmaskExpirationDate", true);
    };
    auto described = co_await call("getCustomerPaymentProfileRequest", read_profile, by);
    const json::object* credit_card = nullptr;
    if (described.answer.result_ok) {
        if (auto* p = described.answer.body.if_contains("paymentProfile"); p && p->is_object()) {
            if (auto* pay = p->as_object().if_contains("payment"); pay && pay->is_object()) {
                if (auto* cc = pay->as_object().if_contains("creditCard"); cc && cc->is_object()) {
                    credit_card = &cc->as_object();
                }
            }
        }
    }
    if (credit_card == nullptr) {
        out.result = outcome::failed;
        out.message = "getCustomerPaymentProfileRequest: " + described.error + " " +
                      described.answer.code + " " + described.answer.text;
        co_return out;
    }
    auto masked = text_of(*credit_card, "cardNumber");      // "XXXX1111"
    auto expiry = text_of(*credit_card, "expirationDate");  // "2031-11" (unmasked)
    out.token = made.token;
    out.reused = made.reused;
    out.brand = brand_of_card_type(text_of(*credit_card, "cardType"));
    out.last4 = masked.size() >= 4 ? masked.substr(masked.size() - 4) : "";
    if (expiry.size() == 7 && expiry[4] == '-') {
        out.exp_year = std::atoi(expiry.substr(0, 4).c_str());
        out.exp_month = std::atoi(expiry.substr(5, 2).c_str());
    }
    // Authorize.Net keeps one payment profile per card in a customer's profile: that id is the
    // card's identity within the account.
    out.processor_fingerprint = made.token;
    out.result = outcome::approved;
    if (out.last4.size() != 4 || out.exp_month < 1 || out.exp_month > 12 || out.exp_year < 2000) {
        out.result = outcome::failed;
        out.message = "the payment profile's card is incomplete";
    }
    co_return out;
}

asio::awaitable<charge_result> authorizenet_gateway::charge(const charge_request& request,
                                                            deadline by) {
    auto token = profile_token::parse(request.token);
    if (!token) {
        co_return charge_result{outcome::failed, "", "resource_missing",
                                "not an Authorize.Net profile token"};
    }
    const std::string amount = model::to_decimal(request.amount);
    const std::string invoice = invoice_number_for(request.idempotency_key);
    const std::string description = request.description.substr(0, 255);
    const write_fn write = [&](request_writer& w) {
        w.field("refId", invoice);
        w.open("transactionRequest")
            .field("transactionType", "authCaptureTransaction")
            .field("amount", amount)
            .field("currencyCode", request.amount.unit.code());
        w.open("profile").field("customerProfileId", token->customer_profile_id);
        w.open("paymentProfile").field("paymentProfileId", token->payment_profile_id);
        w.close().close();
        w.open("order").field("invoiceNumber", invoice);
        if (!description.empty()) {
            w.field("description", description);
        }
        w.close();
        w.open("userFields").open_array("userField");
        w.open_element()
            .field("name", "billpay_payment_id")
            .field("value", request.idempotency_key)
            .close();
        w.close().close();
        w.close();
    };
    auto e = co_await call("createTransactionRequest", write, by);
    if (e.stage != https::send_stage::completed) {
        co_return charge_result{incomplete(e.stage), "", "", e.error};
    }
    if (e.http_status != 200) {
        // A front end's error page: whether the charge went through is not known from it.
        co_return charge_result{outcome::unknown, "", "", e.error};
    }
    auto m = map_transaction(e.answer);
    co_return charge_result{m.result, m.trans_id, m.decline_code, m.message};
}

asio::awaitable<transaction_list> authorizenet_gateway::list_transactions(
    std::string_view request_name, const write_fn& write_filter, deadline by) {
    transaction_list out;
    for (int page = 1; page <= max_pages; ++page) {
        const std::string offset = std::to_string(page);
        const std::string limit = std::to_string(page_size);
        const write_fn write = [&](request_writer& w) {
            write_filter(w);
            w.open("sorting")
                .field("orderBy", "submitTimeUTC")
                .flag("orderDescending", true)
                .close();
            w.open("paging").field("limit", limit).field("offset", offset).close();
        };
        auto e = co_await call(request_name, write, by);
        if (e.stage != https::send_stage::completed || e.http_status != 200 || !e.answer.parsed) {
            out.result = outcome::failed;
            out.message = std::string(request_name) + ": " + e.error;
            co_return out;
        }
        if (!e.answer.result_ok) {
            out.result = outcome::failed;
            out.message = std::string(request_name) + ": " + e.answer.code + " " + e.answer.text;
            co_return out;
        }
        auto items = all_of_element(e.answer.body.if_contains("transactions"));
        for (const auto* t : items) {
            out.transactions.push_back(summary_of(*t));
        }
        if (items.size() < static_cast<std::size_t>(page_size)) {
            out.result = outcome::approved;
            co_return out;
        }
    }
    out.result = outcome::failed;
    out.message = std::string(request_name) + ": more than " +
                  std::to_string(max_pages * page_size) + " transactions";
    co_return out;
}

asio::awaitable<charge_result> authorizenet_gateway::lookup(const charge_request& request,
                                                            deadline by) {
    const std::string invoice = invoice_number_for(request.idempotency_key);
    auto decide = [&](const transaction_list& list) -> std::optional<charge_result> {
        std::optional<charge_result> found;
        int charged = 0;
        for (const auto& t : list.transactions) {
            if (t.invoice_number != invoice) {
                continue;
            }
            auto state = charge_state(t.status);
            if (!state) {
                continue;
            }
            charge_result r{*state, t.trans_id, "", "transactionStatus " + t.status};
            if (*state == outcome::declined) {
                r.decline_code = "generic_decline";
            }
            if (*state == outcome::approved) {
                ++charged;
            }
            // A charge that went through outweighs any attempt that did not.
            if (!found || *state == outcome::approved) {
                found = r;
            }
        }
        if (charged > 1) {
            logging::error("Authorize.Net holds more than one charge for a payment",
                           {{"payment_id", request.idempotency_key}, {"charges", charged}});
        }
        return found;
    };
    auto unknown = [](const std::string& why) {
        return charge_result{outcome::unknown, "", "", why};
    };

    const write_fn unsettled_filter = [](request_writer&) {};
    auto unsettled =
        co_await list_transactions("getUnsettledTransactionListRequest", unsettled_filter, by);
    if (unsettled.result != outcome::approved) {
        co_return unknown(unsettled.message);
    }
    if (auto r = decide(unsettled)) {
        co_return *r;
    }
    // Settled since? Then it is in a settled batch from the charge's day on: found by what
    // Authorize.Net keys it on, not through a payment profile (which may be gone).
    auto settled = co_await settled_since(request.created_at, by);
    if (settled.result != outcome::approved) {
        co_return unknown(settled.message);
    }
    if (auto r = decide(settled)) {
        co_return *r;
    }
    // Both lists read, and neither has it. Absence is Authorize.Net's "no" only once its record
    // for the charge's time is complete: a transaction (declined and errored ones too) is
    // listed unsettled, after a reporting delay, until the day's settlement cut-off, then in
    // that day's batch, and batches settle once a day. So: once a batch that settled at least
    // `settlement_day` after the charge has been read (the charge's own day has closed before
    // it), or, with no batch since (no transaction settled at all), once two settlement days
    // have passed.
    co_return absence_after(request.created_at, settled.latest_settlement_utc,
                            std::chrono::system_clock::now());
}

charge_result absence_after(std::string_view created_at, std::string_view latest_settlement,
                            std::chrono::system_clock::time_point now) {
    const auto created = model::parse_rfc3339_utc(created_at);
    if (!created) {
        return charge_result{outcome::unknown, "", "",
                             "no invoice found, and no time to judge its absence by"};
    }
    const auto settled = model::parse_rfc3339_utc(latest_settlement);
    if ((settled && *settled >= *created + settlement_day) ||
        now >= *created + 2 * settlement_day) {
        return charge_result{outcome::failed, "", "",
                             "no transaction with this invoice number, settlement day closed"};
    }
    charge_result wait{outcome::unknown, "", "",
                       "no transaction with this invoice number yet: Authorize.Net's record is "
                       "not complete until the charge's settlement day has closed"};
    wait.ask_again_after = std::min<std::chrono::milliseconds>(
        std::chrono::hours(1),
        std::chrono::duration_cast<std::chrono::milliseconds>(*created + 2 * settlement_day - now));
    return wait;
}

asio::awaitable<transaction_list> authorizenet_gateway::settled_since(const std::string& since,
                                                                      deadline by) {
    transaction_list out;
    auto range = settlement_range_from(since);
    if (!range) {
        out.message = "no date to search settled batches from";
        co_return out;
    }
    auto batches = co_await settled_batches(range->first, range->second, by);
    if (batches.result != outcome::approved) {
        out.message = batches.message;
        co_return out;
    }
    for (const auto& b : batches.batches) {
        auto list = co_await batch_transactions(b.batch_id, by);
        if (list.result != outcome::approved) {
            out.message = list.message;
            co_return out;
        }
        out.transactions.insert(out.transactions.end(), list.transactions.begin(),
                                list.transactions.end());
        auto at = model::parse_rfc3339_utc(b.settlement_time_utc);
        auto latest = model::parse_rfc3339_utc(out.latest_settlement_utc);
        if (at && (!latest || *at > *latest)) {
            out.latest_settlement_utc = b.settlement_time_utc;
        }
    }
    out.result = outcome::approved;
    co_return out;
}

asio::awaitable<std::optional<refund_result>> authorizenet_gateway::earlier_refund(
    const std::string& invoice, const std::string& since, deadline by) {
    auto match = [&](const transaction_list& list) -> std::optional<refund_result> {
        for (const auto& t : list.transactions) {
            if (t.invoice_number == invoice && t.status.starts_with("refund")) {
                return refund_result{outcome::approved, t.trans_id, "", t.status};
            }
        }
        return std::nullopt;
    };
    const write_fn unsettled_filter = [](request_writer&) {};
    auto unsettled =
        co_await list_transactions("getUnsettledTransactionListRequest", unsettled_filter, by);
    if (unsettled.result != outcome::approved) {
        co_return refund_result{outcome::unknown, "", "", unsettled.message};
    }
    if (auto found = match(unsettled)) {
        co_return found;
    }
    auto settled = co_await settled_since(since, by);
    if (settled.result != outcome::approved) {
        co_return refund_result{outcome::unknown, "", "", settled.message};
    }
    if (auto found = match(settled)) {
        co_return found;
    }
    // Absent: the first attempt never reached Authorize.Net only once its record for that
    // time is complete (as for a charge); until then nothing is sent again.
    auto absent =
        absence_after(since, settled.latest_settlement_utc, std::chrono::system_clock::now());
    if (absent.result != outcome::failed) {
        co_return refund_result{outcome::unknown, "", "", absent.message};
    }
    co_return std::nullopt;
}

asio::awaitable<refund_result> authorizenet_gateway::reverse(const write_fn& write_transaction,
                                                             deadline by) {
    auto e = co_await call("createTransactionRequest", write_transaction, by);
    if (e.stage != https::send_stage::completed) {
        co_return refund_result{incomplete(e.stage), "", "", e.error};
    }
    if (e.http_status != 200) {
        co_return refund_result{outcome::unknown, "", "", e.error};
    }
    auto m = map_transaction(e.answer);
    co_return refund_result{m.result, m.trans_id, m.decline_code, m.message};
}

asio::awaitable<refund_result> authorizenet_gateway::void_charge(const refund_request& request,
                                                                 deadline by) {
    const std::string invoice = invoice_number_for(request.idempotency_key);
    const write_fn write = [&](request_writer& w) {
        w.field("refId", invoice);
        w.open("transactionRequest")
            .field("transactionType", "voidTransaction")
            .field("refTransId", request.processor_reference)
            .close();
    };
    auto result = co_await reverse(write, by);
    result.voided = result.result == outcome::approved;
    co_return result;
}

asio::awaitable<refund_result> authorizenet_gateway::refund(const refund_request& request,
                                                            deadline by) {
    // Authorize.Net refunds only settled charges; an unsettled one can only be voided, whole.
    const write_fn details = [&request](request_writer& w) {
        w.field("transId", request.processor_reference);
    };
    auto e = co_await call("getTransactionDetailsRequest", details, by);
    const json::object* transaction = nullptr;
    if (e.answer.result_ok) {
        if (auto* t = e.answer.body.if_contains("transaction"); t && t->is_object()) {
            transaction = &t->as_object();
        }
    }
    if (transaction == nullptr) {
        auto m = e.answer.parsed
                     ? map_message_code(e.answer.code, e.answer.text, false)
                     : mapped_transaction{outcome::failed, "processing_error", e.error, ""};
        co_return refund_result{m.result == outcome::declined ? outcome::declined : outcome::failed,
                                "", m.decline_code, "getTransactionDetailsRequest: " + m.message};
    }
    auto status = text_of(*transaction, "transactionStatus");
    auto charged = model::parse_decimal(text_of(*transaction, "authAmount"), request.amount.unit);
    // Authorize.Net has no idempotency keys: a refund asked again under the same key (its answer
    // was lost) must find what the first attempt did before doing anything.
    if (status == "voided") {
        if (charged && *charged == request.amount.minor_units) {
            refund_result done{outcome::approved, request.processor_reference, "", "voided"};
            done.voided = true;
            co_return done;
        }
        co_return refund_result{outcome::declined, "", "charge_not_refundable",
                                "the charge was voided"};
    }
    const std::string invoice = invoice_number_for(request.idempotency_key);
    if (request.retry && status == "settledSuccessfully") {
        // Asked again after a lost answer: Authorize.Net has no idempotency keys, so the first
        // attempt is looked for by its invoice number among the refunds, unsettled and settled
        // since it was asked for. Not readable: nothing is sent (it may pay out twice).
        auto earlier = co_await earlier_refund(invoice, request.requested_at, by);
        if (earlier) {
            co_return *earlier;
        }
    }
    if (status != "settledSuccessfully") {
        if (charge_state(status) != outcome::approved) {
            co_return refund_result{outcome::declined, "", "charge_not_refundable",
                                    "the charge's transactionStatus is " + status};
        }
        if (!charged || *charged != request.amount.minor_units) {
            co_return refund_result{outcome::declined, "", "charge_not_settled",
                                    "Authorize.Net refunds only settled charges; until it "
                                    "settles this one can only be voided whole"};
        }
        co_return co_await void_charge(request, by);
    }
    // A refund names the card by its last 4 digits and a masked expiry (Authorize.Net's way for
    // a refund of a settled charge), so it does not depend on the payment profile still existing.
    if (request.card_last4.size() != 4) {
        co_return refund_result{outcome::failed, "", "processor_error",
                                "a refund needs the card's last 4 digits"};
    }
    const std::string amount = model::to_decimal(request.amount);
    const write_fn write = [&](request_writer& w) {
        w.field("refId", invoice);
        w.open("transactionRequest")
            .field("transactionType", "refundTransaction")
            .field("amount", amount)
            .field("currencyCode", request.amount.unit.code());
        w.open("payment").open("creditCard");
        w.field("cardNumber", request.card_last4).field("expirationDate", "XXXX");
        w.close().close();
        w.field("refTransId", request.processor_reference);
        w.open("order").field("invoiceNumber", invoice).close();
        w.close();
    };
    co_return co_await reverse(write, by);
}

asio::awaitable<delete_result> authorizenet_gateway::delete_token(const std::string& token_text,
                                                                  deadline by) {
    auto token = profile_token::parse(token_text);
    if (!token) {
        co_return delete_result{outcome::declined, "not an Authorize.Net profile token"};
    }
    const write_fn write = [&token](request_writer& w) {
        w.field("customerProfileId", token->customer_profile_id)
            .field("customerPaymentProfileId", token->payment_profile_id);
    };
    co_return co_await delete_request("deleteCustomerPaymentProfileRequest", write, by);
}

asio::awaitable<delete_result> authorizenet_gateway::discard_token(const std::string& token_text,
                                                                   deadline by) {
    auto token = profile_token::parse(token_text);
    if (!token) {
        co_return delete_result{outcome::declined, "not an Authorize.Net profile token"};
    }
    if (!token->once) {
        // A payment profile in the account's customer profile (a card meant to be saved that
        // was not): it counts toward the ten, and goes as a deleted saved card's does.
        co_return co_await delete_token(token_text, by);
    }
    // The customer profile made for this payment alone goes with its payment profile.
    const write_fn write = [&token](request_writer& w) {
        w.field("customerProfileId", token->customer_profile_id);
    };
    co_return co_await delete_request("deleteCustomerProfileRequest", write, by);
}

asio::awaitable<delete_result> authorizenet_gateway::delete_request(std::string_view request_name,
                                                                    const write_fn& write,
                                                                    deadline by) {
    auto e = co_await call(request_name, write, by);
    if (e.stage != https::send_stage::completed || e.http_status != 200 || !e.answer.parsed) {
        co_return delete_result{incomplete(e.stage), e.error};
    }
    if (e.answer.result_ok) {
        co_return delete_result{outcome::approved, ""};
    }
    co_return delete_result{e.answer.code == "E00040" ? outcome::declined : outcome::failed,
                            e.answer.code + " " + e.answer.text};
}

asio::awaitable<customer_list> authorizenet_gateway::list_customers(deadline by) {
    const write_fn nothing = [](request_writer&) {};
    auto e = co_await call("getCustomerProfileIdsRequest", nothing, by);
    if (e.stage != https::send_stage::completed || e.http_status != 200 || !e.answer.parsed) {
        co_return customer_list{outcome::failed, {}, "getCustomerProfileIdsRequest: " + e.error};
    }
    if (!e.answer.result_ok) {
        co_return customer_list{
            outcome::failed,
            {},
            "getCustomerProfileIdsRequest: " + e.answer.code + " " + e.answer.text};
    }
    customer_list out{outcome::approved, {}, ""};
    if (const auto* ids = e.answer.body.if_contains("ids"); ids && ids->is_array()) {
        for (const auto& id : ids->as_array()) {
            if (id.is_string()) {
                out.ids.emplace_back(id.as_string());
            }
        }
    }
    co_return out;
}

std::optional<std::string> authorizenet_gateway::customer_of(const std::string& token) const {
    auto parsed = profile_token::parse(token);
    return parsed ? std::optional<std::string>(parsed->customer_profile_id) : std::nullopt;
}

asio::awaitable<delete_result> authorizenet_gateway::forget_customer(const std::string& id,
                                                                     deadline by) {
    // Only a profile billpayd made: its description says so (make_payment_profile). The
    // merchant account may hold other systems' customers.
    const write_fn name_it = [&id](request_writer& w) { w.field("customerProfileId", id); };
    auto got = co_await call("getCustomerProfileRequest", name_it, by);
    if (got.stage != https::send_stage::completed || got.http_status != 200 || !got.answer.parsed) {
        co_return delete_result{incomplete(got.stage), "getCustomerProfileRequest: " + got.error};
    }
    if (!got.answer.result_ok) {
        co_return delete_result{got.answer.code == "E00040" ? outcome::declined : outcome::failed,
                                got.answer.code + " " + got.answer.text};
    }
    std::string description;
    if (const auto* profile = got.answer.body.if_contains("profile");
        profile && profile->is_object()) {
        description = text_of(profile->as_object(), "description");
    }
    if (!description.starts_with("billpayd ")) {
        co_return delete_result{outcome::declined, "not a profile billpayd made"};
    }
    co_return co_await delete_request("deleteCustomerProfileRequest", name_it, by);
}

asio::awaitable<settlement_list> authorizenet_gateway::settlements(const std::string& first_day,
                                                                   const std::string& last_day,
                                                                   model::currency unit,
                                                                   deadline by) {
    settlement_list out;
    auto batches = co_await settled_batches(first_day + "T00:00:00Z", last_day + "T23:59:59Z", by);
    if (batches.result != outcome::approved) {
        out.result = batches.result;
        out.message = "Authorize.Net: " + batches.message;
        co_return out;
    }
    for (const auto& b : batches.batches) {
        auto list = co_await batch_transactions(b.batch_id, by);
        if (list.result != outcome::approved) {
            out.result = list.result;
            out.message = "Authorize.Net batch " + b.batch_id + ": " + list.message;
            co_return out;
        }
        for (const auto& t : list.transactions) {
            const bool charge = t.status == "settledSuccessfully";
            const bool refund = t.status == "refundSettledSuccessfully";
            if (!charge && !refund) {
                continue;  // voided, declined: nothing moved
            }
            auto amount = model::parse_decimal(t.settle_amount, unit);
            if (!amount) {
                out.result = outcome::failed;
                out.message = "Authorize.Net transaction " + t.trans_id + ": settleAmount \"" +
                              t.settle_amount + "\" is not an amount";
                co_return out;
            }
            out.transactions.push_back(
                settled_transaction{t.trans_id, refund, model::money{*amount, unit},
                                    b.settlement_time_utc.substr(0, 19) + "Z", b.batch_id});
        }
    }
    out.result = outcome::approved;
    co_return out;
}

asio::awaitable<batch_list> authorizenet_gateway::settled_batches(
    const std::string& first_settlement, const std::string& last_settlement, deadline by) {
    const write_fn write = [&](request_writer& w) {
        w.flag("includeStatistics", false)
            .field("firstSettlementDate", first_settlement)
            .field("lastSettlementDate", last_settlement);
    };
    auto e = co_await call("getSettledBatchListRequest", write, by);
    batch_list out;
    if (e.stage != https::send_stage::completed || e.http_status != 200 || !e.answer.parsed) {
        out.message = "getSettledBatchListRequest: " + e.error;
        co_return out;
    }
    if (!e.answer.result_ok) {
        out.message = "getSettledBatchListRequest: " + e.answer.code + " " + e.answer.text;
        co_return out;
    }
    for (const auto* b : all_of_element(e.answer.body.if_contains("batchList"))) {
        out.batches.push_back(batch{text_of(*b, "batchId"), text_of(*b, "settlementTimeUTC"),
                                    text_of(*b, "settlementState")});
    }
    out.result = outcome::approved;
    co_return out;
}

asio::awaitable<transaction_list> authorizenet_gateway::batch_transactions(
    const std::string& batch_id, deadline by) {
    const write_fn filter = [&batch_id](request_writer& w) { w.field("batchId", batch_id); };
    co_return co_await list_transactions("getTransactionListRequest", filter, by);
}

}  // namespace billpay::gateway::authorizenet
