#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "gateway_adapters/authorizenet/authorizenet_gateway.hpp"
#include "gateway_adapters/authorizenet/authorizenet_protocol.hpp"
#include "model/time.hpp"

namespace {

using namespace billpay::gateway;
using namespace billpay::gateway::authorizenet;

/// A createTransactionResponse as Authorize.Net writes it, byte-order mark first.
std::string transaction_response(const std::string& response_code, int reason,
                                 const std::string& result_code = "Error") {
    std::string errors_or_messages =
        response_code == "1" || response_code == "4"
            ? R"("messages":[{"code":")" + std::to_string(reason) +
                  R"(","description":"This transaction has been approved."}])"
            : R"("errors":[{"errorCode":")" + std::to_string(reason) +
                  R"(","errorText":"This transaction has been declined."}])";
    return "\xEF\xBB\xBF"
           R"({"transactionResponse":{"responseCode":")" +
           response_code +
           R"(","authCode":"","avsResultCode":"P","cvvResultCode":"","transId":"60212345678",)" +
           errors_or_messages + R"(},"refId":"x","messages":{"resultCode":")" + result_code +
           R"(","message":[{"code":"E00027","text":"The transaction was unsuccessful."}]}})";
}

TEST(AuthorizeNetProtocol, ResponsesLoseTheirByteOrderMarkAndKeepNumbersExact) {
    auto r = parse_response(
        "\xEF\xBB\xBF"
        R"({"settleAmount":1234.56,"small":0.10,"neg":-4.5,)"
        R"("text":"a \"quoted\" 12.5","messages":{"resultCode":"Ok",)"
        R"("message":[{"code":"I00001","text":"Successful."}]}})");
    ASSERT_TRUE(r.parsed);
    EXPECT_TRUE(r.result_ok);
    EXPECT_EQ(r.code, "I00001");
    EXPECT_EQ(r.body.at("settleAmount"), "1234.56");
    EXPECT_EQ(r.body.at("small"), "0.10");
    EXPECT_EQ(r.body.at("neg"), "-4.5");
    EXPECT_EQ(r.body.at("text"), "a \"quoted\" 12.5");  // numbers inside strings untouched
    EXPECT_FALSE(parse_response("\xEF\xBB\xBF<html>500</html>").parsed);
    EXPECT_EQ(strip_bom("\xEF\xBB\xBF{}"), "{}");
    EXPECT_EQ(strip_bom("{}"), "{}");
}

TEST(AuthorizeNetProtocol, RequestsAreWrittenInTheOrderGivenWithStringsEscaped) {
    body_string body;
    request_writer w(body, "createTransactionRequest", "login", "key\"1");
    w.field("refId", "r1");
    w.open("transactionRequest").field("transactionType", "authCaptureTransaction");
    w.open("order").field("description", "bill \\ 11/26\n").close();
    w.open("userFields").open_array("userField");
    w.open_element().field("name", "a").field("value", "b").close();
    w.finish();
    std::string text(body.begin(), body.end());
    EXPECT_EQ(text,
              R"({"createTransactionRequest":{"merchantAuthentication":{"name":"login",)"
              R"("transactionKey":"key\"1"},"refId":"r1","transactionRequest":{)"
              R"("transactionType":"authCaptureTransaction","order":{"description":)"
              R"("bill \\ 11/26\u000a"},"userFields":{"userField":[{"name":"a","value":"b"}]}}}})");
    boost::system::error_code ec;
    boost::json::parse(text, ec);
    EXPECT_FALSE(ec);
}

TEST(AuthorizeNetProtocol, InvoiceNumbersAndCustomerIdsFitTheirTwentyCharacters) {
    EXPECT_EQ(invoice_number_for("pay_0123456789abcdefghjkmnpqrs"), "0123456789abcdefghjk");
    EXPECT_EQ(invoice_number_for("pay_0123456789abcdefghjkmnpqrs").size(), 20u);
    EXPECT_EQ(merchant_customer_id_for("1001-2002"), "1001-2002");
    auto long_id = merchant_customer_id_for("ACCOUNT-0123456789-0123456789");
    EXPECT_EQ(long_id.size(), 20u);
    EXPECT_EQ(long_id[0], 'h');
    EXPECT_EQ(long_id, merchant_customer_id_for("ACCOUNT-0123456789-0123456789"));
    EXPECT_NE(long_id, merchant_customer_id_for("ACCOUNT-0123456789-0123456780"));
}

TEST(AuthorizeNetProtocol, TokensAreTwoProfileIds) {
    auto t = profile_token::parse("527262/486023");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->customer_profile_id, "527262");
    EXPECT_EQ(t->payment_profile_id, "486023");
    EXPECT_EQ(t->to_string(), "527262/486023");
    for (const char* bad : {"", "527262", "/486023", "527262/", "pm_123", "12/ab", "1/2/3"}) {
        EXPECT_FALSE(profile_token::parse(bad)) << bad;
    }
}

TEST(AuthorizeNetProtocol, ResponseCodesMapOntoOutcomes) {
    auto approved = map_transaction(parse_response(transaction_response("1", 1, "Ok")));
    EXPECT_EQ(approved.result, outcome::approved);
    EXPECT_EQ(approved.trans_id, "60212345678");
    auto declined = map_transaction(parse_response(transaction_response("2", 2)));
    EXPECT_EQ(declined.result, outcome::declined);
    EXPECT_EQ(declined.decline_code, "generic_decline");
    auto error = map_transaction(parse_response(transaction_response("3", 19)));
    EXPECT_EQ(error.result, outcome::failed);
    EXPECT_EQ(error.decline_code, "processing_error");
    // Held for review: the merchant decides later, so the payment stays pending.
    auto held = map_transaction(parse_response(transaction_response("4", 253, "Ok")));
    EXPECT_EQ(held.result, outcome::unknown);
    EXPECT_EQ(held.trans_id, "60212345678");
}

TEST(AuthorizeNetProtocol, EachDocumentedReasonCodeHasItsDeclineCode) {
    struct expected {
        const char* response_code;
        int reason;
        outcome result;
        const char* decline_code;
    };
    for (auto e : {
             expected{"2", 2, outcome::declined, "generic_decline"},
             expected{"2", 3, outcome::declined, "call_issuer"},
             expected{"2", 4, outcome::declined, "pickup_card"},
             expected{"3", 6, outcome::declined, "incorrect_number"},
             expected{"3", 37, outcome::declined, "incorrect_number"},
             expected{"3", 315, outcome::declined, "incorrect_number"},
             expected{"3", 7, outcome::declined, "invalid_expiry_year"},
             expected{"3", 316, outcome::declined, "invalid_expiry_year"},
             expected{"3", 8, outcome::declined, "expired_card"},
             expected{"3", 317, outcome::declined, "expired_card"},
             expected{"3", 17, outcome::declined, "card_not_supported"},
             expected{"2", 28, outcome::declined, "card_not_supported"},
             expected{"2", 27, outcome::declined, "incorrect_address"},
             expected{"2", 127, outcome::declined, "incorrect_address"},
             expected{"2", 290, outcome::declined, "incorrect_address"},
             expected{"2", 44, outcome::declined, "incorrect_cvc"},
             expected{"2", 45, outcome::declined, "incorrect_cvc"},
             expected{"2", 65, outcome::declined, "incorrect_cvc"},
             expected{"3", 78, outcome::declined, "incorrect_cvc"},
             expected{"2", 250, outcome::declined, "fraudulent"},
             expected{"2", 251, outcome::declined, "fraudulent"},
             expected{"2", 254, outcome::declined, "fraudulent"},
             expected{"3", 11, outcome::unknown, ""},
             expected{"3", 120, outcome::unknown, ""},
             expected{"3", 121, outcome::unknown, ""},
             expected{"3", 122, outcome::unknown, ""},
             expected{"4", 252, outcome::unknown, ""},
             expected{"4", 253, outcome::unknown, ""},
             expected{"3", 19, outcome::failed, "processing_error"},
             expected{"3", 20, outcome::failed, "processing_error"},
             expected{"3", 21, outcome::failed, "processing_error"},
             expected{"3", 22, outcome::failed, "processing_error"},
             expected{"3", 23, outcome::failed, "processing_error"},
             expected{"3", 25, outcome::failed, "processing_error"},
             expected{"3", 26, outcome::failed, "processing_error"},
             expected{"3", 57, outcome::failed, "processing_error"},
             expected{"3", 63, outcome::failed, "processing_error"},
             expected{"3", 5, outcome::failed, "processor_error"},    // a valid amount is required
             expected{"3", 13, outcome::failed, "processor_error"},   // login id invalid
             expected{"3", 103, outcome::failed, "processor_error"},  // transaction key invalid
             expected{"2", 9999, outcome::declined, "generic_decline"},  // a new decline
         }) {
        auto m = map_reason_code(e.response_code, e.reason);
        EXPECT_EQ(m.result, e.result) << e.reason;
        EXPECT_EQ(m.decline_code, e.decline_code) << e.reason;
    }
}

TEST(AuthorizeNetProtocol, RequestLevelErrorsMapByMessageCode) {
    // An internal error after a charge was sent may have charged: unknown. Elsewhere: failed.
    EXPECT_EQ(map_message_code("E00001", "An error occurred during processing.", true).result,
              outcome::unknown);
    EXPECT_EQ(map_message_code("E00001", "An error occurred during processing.", false).result,
              outcome::failed);
    auto auth = map_message_code("E00007", "User authentication failed", true);
    EXPECT_EQ(auth.result, outcome::failed);
    EXPECT_EQ(auth.decline_code, "authentication_failed");
    EXPECT_EQ(map_message_code("E00114", "Invalid OTS Token.", false).result, outcome::declined);
    EXPECT_EQ(map_message_code("E00040", "The record cannot be found.", true).decline_code,
              "resource_missing");
    auto invalid = map_message_code(
        "E00003",
        "The 'AnetApi/xml/v1/schema/AnetApiSchema.xsd:cardNumber' element is invalid - The value "
        "'41111111111111111' is invalid according to its datatype",
        false);
    EXPECT_EQ(invalid.result, outcome::failed);
    EXPECT_EQ(invalid.message.find("1111"), std::string::npos) << invalid.message;
    // A createTransactionResponse without a transactionResponse is a request-level error.
    auto r = parse_response(
        "\xEF\xBB\xBF"
        R"({"messages":{"resultCode":"Error","message":[{"code":"E00007","text":"bad"}]}})");
    EXPECT_EQ(map_transaction(r).result, outcome::failed);
    EXPECT_EQ(map_transaction(parse_response("garbage")).result, outcome::unknown);
}

TEST(AuthorizeNetProtocol, CardTypesBecomeBillpaydBrands) {
    EXPECT_EQ(brand_of_card_type("Visa"), "visa");
    EXPECT_EQ(brand_of_card_type("MasterCard"), "mastercard");
    EXPECT_EQ(brand_of_card_type("AmericanExpress"), "amex");
    EXPECT_EQ(brand_of_card_type("Discover"), "discover");
    EXPECT_EQ(brand_of_card_type("JCB"), "jcb");
    EXPECT_EQ(brand_of_card_type("DinersClub"), "diners");
    EXPECT_EQ(brand_of_card_type("eCheck"), "unknown");
}

TEST(AuthorizeNetLookup, AbsenceIsANoOnlyOnceTheChargesSettlementDayHasClosed) {
    using namespace std::chrono;
    const auto made = sys_days(year(2026) / 11 / 26) + hours(17);
    const std::string created = billpay::model::rfc3339_utc(made);
    auto at = [](system_clock::time_point t) { return billpay::model::rfc3339_utc(t); };

    // Minutes later, nothing settled since: Authorize.Net may not list it yet.
    auto soon = absence_after(created, "", made + minutes(5));
    EXPECT_EQ(soon.result, outcome::unknown);
    EXPECT_EQ(soon.ask_again_after, hours(1));
    // The next cut-off's batch was read, but the charge may have missed that cut-off.
    EXPECT_EQ(absence_after(created, at(made + hours(11)), made + hours(12)).result,
              outcome::unknown);
    // A batch settled a whole settlement day after it: its day has closed.
    EXPECT_EQ(absence_after(created, at(made + hours(35)), made + hours(36)).result,
              outcome::failed);
    // No batch at all since (nothing settled): two settlement days, then it is a no.
    auto late = absence_after(created, "", made + hours(47) + minutes(30));
    EXPECT_EQ(late.result, outcome::unknown);
    EXPECT_EQ(late.ask_again_after, minutes(30));
    EXPECT_EQ(absence_after(created, "", made + hours(48)).result, outcome::failed);
    // No time to judge by: never a no.
    EXPECT_EQ(absence_after("", at(made + hours(100)), made + hours(100)).result, outcome::unknown);
}

}  // namespace
