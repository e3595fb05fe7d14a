// Bad input gets a 400 naming the field and changes nothing.
#include <gmock/gmock.h>

#include <algorithm>

#include "tests/e2e/payments_fixture.hpp"

namespace {

using namespace billpay::test;
namespace json = boost::json;

class BadInput : public payments_fixture {};

struct bad_case {
    std::string name;
    std::string body;
    std::string param;  // expected error.param ("" = none)
};

TEST_F(BadInput, EachBadRequestIs400NamingTheFieldAndTheDatabaseIsUnchanged) {
    start();
    auto c = client();
    const std::string card =
        R"("card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"})";
    const std::string customer = R"("customer": {"name": "Ada", "email": "ada@example.com"})";
    auto body = [&](const std::string& amount, const std::string& extra = "",
                    const std::string& card_json = "") {
        return "{\"account_number\": \"1001-2002\", \"currency\": \"USD\", \"amount\": " + amount +
               ", " + (card_json.empty() ? card : card_json) + ", " + customer + extra + "}";
    };
    auto card_with = [](const std::string& fields) { return "\"card\": {" + fields + "}"; };
    std::vector<bad_case> cases = {
        {"malformed JSON", "{\"account_number\": ", ""},
        {"not an object", "[1, 2, 3]", ""},
        {"trailing garbage", body("100") + "x", ""},
        {"amount 0", body("0"), "amount"},
        {"amount -1", body("-1"), "amount"},
        {"amount 1.5", body("1.5"), "amount"},
        {"amount 100.0", body("100.0"), "amount"},
        {"amount string", body("\"100\""), "amount"},
        {"amount 2^63", body("9223372036854775808"), "amount"},
        {"amount over max", body("5000001"), "amount"},
        {"amount null", body("null"), "amount"},
        {"unknown field", body("100", ", \"tip\": 5"), "tip"},
        {"unknown card field",
         body(
             "100", "",
             card_with(
                 R"("number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123", "pin": "1234")")),
         "card.pin"},
        {"currency not allowed",
         R"({"account_number": "1001-2002", "currency": "EUR", "amount": 100, )" + card + ", " +
             customer + "}",
         "currency"},
        {"card number Luhn",
         body(
             "100", "",
             card_with(
                 R"("number": "4242424242424241", "exp_month": 12, "exp_year": 2031, "cvc": "123")")),
         "card.number"},
        {"card number as a number",
         body(
             "100", "",
             card_with(
                 R"("number": 4242424242424242, "exp_month": 12, "exp_year": 2031, "cvc": "123")")),
         "card.number"},
        {"card number with spaces",
         body(
             "100", "",
             card_with(
                 R"("number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2031, "cvc": "123")")),
         "card.number"},
        {"card number too long",
         body(
             "100", "",
             card_with(
                 R"("number": "42424242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123")")),
         "card.number"},
        {"expired card",
         body(
             "100", "",
             card_with(
                 R"("number": "4242424242424242", "exp_month": 1, "exp_year": 2020, "cvc": "123")")),
         "card.exp_year"},
        {"month 13",
         body(
             "100", "",
             card_with(
                 R"("number": "4242424242424242", "exp_month": 13, "exp_year": 2031, "cvc": "123")")),
         "card.exp_month"},
        {"two-digit year",
         body(
             "100", "",
             card_with(
                 R"("number": "4242424242424242", "exp_month": 12, "exp_year": 31, "cvc": "123")")),
         "card.exp_year"},
        {"cvc too short",
         body(
             "100", "",
             card_with(
                 R"("number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "12")")),
         "card.cvc"},
        {"amex cvc of 3",
         body(
             "100", "",
             card_with(
                 R"("number": "378282246310005", "exp_month": 12, "exp_year": 2031, "cvc": "123")")),
         "card.cvc"},
        {"cvc missing",
         body("100", "",
              card_with(R"("number": "4242424242424242", "exp_month": 12, "exp_year": 2031)")),
         "card.cvc"},
        {"bad email",
         R"({"account_number": "1001-2002", "currency": "USD", "amount": 100, )" + card +
             R"(, "customer": {"name": "Ada", "email": "not-an-email"}})",
         "customer.email"},
        {"customer missing",
         R"({"account_number": "1001-2002", "currency": "USD", "amount": 100, )" + card + "}",
         "customer"},
        {"SQL in account number",
         R"({"account_number": "1'; DROP TABLE payments;--", "currency": "USD", "amount": 100, )" +
             card + ", " + customer + "}",
         "account_number"},
        {"SQL in bill id", body("100", R"(, "bill_id": "x' OR '1'='1")"), "bill_id"},
        {"SQL in metadata key", body("100", R"(, "metadata": {"a'; DROP TABLE payments;--": 1})"),
         "metadata"},
        {"control character in name",
         R"({"account_number": "1001-2002", "currency": "USD", "amount": 100, )" + card +
             R"(, "customer": {"name": "Ada\u0000", "email": "ada@example.com"}})",
         "customer.name"},
        {"too deep", body("100", R"(, "metadata": {"a": [[[[[[[[[[1]]]]]]]]]]})"), ""},
        {"invalid UTF-8", body("100", ", \"metadata\": {\"a\": \"\xff\xfe\"}"), ""},
        {"card and payment method", body("100", R"(, "payment_method": "pm_x")"), "payment_method"},
        {"processor token a number", body("100", "", R"("processor_token": 12)"),
         "processor_token"},
        {"opaque data without its value",
         body("100", "",
              R"("processor_token": {"data_descriptor": "COMMON.ACCEPT.INAPP.PAYMENT"})"),
         "processor_token.data_value"},
        {"opaque data with an unknown field",
         body("100", "",
              R"("processor_token": {"data_descriptor": "d", "data_value": "v", "data_key": "k"})"),
         "processor_token.data_key"},
        {"opaque data value empty",
         body("100", "", R"("processor_token": {"data_descriptor": "d", "data_value": ""})"),
         "processor_token.data_value"},
    };
    for (const auto& bad : cases) {
        std::string key = "bad-" + bad.name;
        std::replace(key.begin(), key.end(), ' ', '-');
        auto res = c.request(http::verb::post, "/v1/payments", bad.body, auth(portal_key, key));
        EXPECT_EQ(res.result(), http::status::bad_request) << bad.name << ": " << res.body();
        auto error = json_of(res).at("error");
        EXPECT_EQ(error.at("type"), "invalid_request_error") << bad.name;
        auto param = error.as_object().contains("param")
                         ? std::string(error.at("param").as_string())
                         : std::string();
        EXPECT_EQ(param, bad.param) << bad.name;
        EXPECT_EQ(res.body().find("4242424242424242"), std::string::npos) << bad.name;
        EXPECT_EQ(res.body().find("DROP TABLE"), std::string::npos) << bad.name;
    }
    EXPECT_EQ(table_counts(), "0/0/0/0/0");
}

TEST_F(BadInput, AnOversizeBodyIs413AndChangesNothing) {
    start();
    auto c = client();
    auto body = payment_body("4242424242424242");
    body["metadata"] = json::object{{"padding", std::string(100'000, 'x')}};
    auto res = pay(c, body, "big");
    EXPECT_EQ(res.result(), http::status::payload_too_large);
    EXPECT_EQ(table_counts(), "0/0/0/0/0");
}

TEST_F(BadInput, SqlMetacharactersInFreeTextAreStoredAsTheyAre) {
    start();
    auto c = client();
    auto body = payment_body("4242424242424242");
    const std::string name = "Robert'); DROP TABLE payments;-- \"O'Brien\" \\ %_";
    body["customer"] = json::object{{"name", name}, {"email", "bobby@example.com"}};
    body["metadata"] = json::object{{"invoice_number", "'; DELETE FROM payments; --"}};
    auto res = pay(c, body, "bobby");
    ASSERT_EQ(res.result(), http::status::created) << res.body();
    EXPECT_EQ(json_of(res).at("customer").at("name"), json::value(name));
    EXPECT_EQ(json_of(res).at("metadata").at("invoice_number"), "'; DELETE FROM payments; --");
    EXPECT_EQ(count("SELECT count(*) FROM payments"), 1);
}

}  // namespace
