#pragma once

#include <string>

#include "tests/e2e/payments_fixture.hpp"

namespace billpay::test {

/// A fixture whose customers save cards first (AutoPay and scheduled payments pay with them).
class WithSavedCards : public payments_fixture {
  protected:
    std::string saved_card(https_client& c, const std::string& account = "1001-2002",
                           const std::string& number = "4242424242424242", int exp_month = 12,
                           int exp_year = 2031) {
        boost::json::object card{
            {"number", number}, {"exp_month", exp_month}, {"exp_year", exp_year}, {"cvc", "123"}};
        auto res = post(c, "/v1/payment_methods",
                        boost::json::object{{"account_number", account}, {"card", card}},
                        portal_key, "save-" + account + "-" + number.substr(12));
        EXPECT_EQ(res.result(), http::status::created) << res.body();
        return std::string(json_of(res).at("id").as_string());
    }
};

/// Payments scheduled ahead: kept for their day, listed, canceled until their run begins.
class scheduled_payments_fixture : public WithSavedCards {
  protected:
    static boost::json::object scheduled(const std::string& card, const std::string& pay_on,
                                         std::int64_t amount = 8450) {
        return boost::json::object{{"account_number", "1001-2002"},
                                   {"bill_id", "2026-12"},
                                   {"amount", amount},
                                   {"currency", "USD"},
                                   {"payment_method", card},
                                   {"pay_on", pay_on},
                                   {"customer", boost::json::object{{"name", "Ada Lovelace"},
                                                                    {"email", "ada@example.com"}}}};
    }
    http_response schedule(https_client& c, const boost::json::value& body, const std::string& key,
                           const std::string& api_key = portal_key) {
        return post(c, "/v1/scheduled_payments", body, api_key, key);
    }
    http_response cancel(https_client& c, const std::string& id,
                         const std::string& account = "1001-2002") {
        return c.request(http::verb::delete_,
                         "/v1/scheduled_payments/" + id + "?account_number=" + account, "",
                         auth(portal_key));
    }
};

}  // namespace billpay::test
