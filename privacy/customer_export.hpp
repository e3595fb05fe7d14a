#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "store/privacy.hpp"

namespace billpay::privacy {

/// A customer's own data (the privacy policy: "customers can see their own payment
/// information"), as `billpayctl customer export` and GET /v1/accounts/{account_number}/export
/// give it. docs/privacy.md documents every field:
/// {"object": "customer_export", "account_number", "exported_at", "contact": {"email",
///  "updated_at"} | null, "payments": [...], "refunds": [...], "payment_methods": [...],
///  "messages": [...], "audit": [...]}
/// Never a card number, a processor token or a card fingerprint: only brand, last 4, expiry.
boost::json::object export_json(const store::account_data& data, const std::string& exported_at);

/// The same as one CSV table, a row per record:
/// record,id,related_id,created_at,status,amount,currency,card_brand,card_last4,card_expiry,detail
/// (amounts in minor units; `detail` is the record's remaining fields as `key=value; …`).
std::string export_csv(const store::account_data& data, const std::string& exported_at);

}  // namespace billpay::privacy
