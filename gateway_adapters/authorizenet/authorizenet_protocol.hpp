#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway_adapters/gateway.hpp"
#include "https/client.hpp"

namespace billpay::gateway::authorizenet {

/// The body of an outbound request: a wiping string, since tokenize requests carry the card.
using body_string = https::client::request::body_type::value_type;

/// Writes a JSON request straight into the request's wiping body, in the order its fields are
/// written: Authorize.Net validates its JSON against the XML schema, so element order matters,
/// and the card's fields never pass through a boost::json value (whose strings are not wiped).
class request_writer {
  public:
    /// Starts `{"<request_name>":{"merchantAuthentication":{"name":…,"transactionKey":…}`.
    request_writer(body_string& out, std::string_view request_name, std::string_view login_id,
                   std::string_view transaction_key);

    request_writer& open(std::string_view key);                           // "key":{
    request_writer& open_array(std::string_view key);                     // "key":[
    request_writer& open_element();                                       // { inside an array
    request_writer& close();                                              // } or ]
    request_writer& field(std::string_view key, std::string_view value);  // "key":"value"
    request_writer& flag(std::string_view key, bool value);               // "key":true
    /// Closes what is open, and the request: the body is complete.
    void finish();

  private:
    void separate();
    void key(std::string_view k);
    void string(std::string_view text);
    body_string& out_;
    std::vector<bool> first_;  // per open object/array: nothing written in it yet
    std::vector<char> closers_;
};

/// A response, parsed: Authorize.Net starts its JSON with a UTF-8 byte-order mark, which is
/// dropped, and every number in it is read as the string of its digits (amounts like 12.34 never
/// become doubles). `result_ok` is messages.resultCode == "Ok"; `code`/`text` are its first
/// message.
struct response {
    bool parsed = false;  // false: not JSON, or not an object
    bool result_ok = false;
    std::string code;  // "I00001", "E00027", …
    std::string text;
    boost::json::object body;
};
response parse_response(std::string_view body);

/// The text after a UTF-8 byte-order mark, if it starts with one.
std::string_view strip_bom(std::string_view text) noexcept;

/// The JSON text with every number literal outside strings put in quotes ({"a":12.30} ->
/// {"a":"12.30"}), so that a JSON parser keeps its exact digits (Boost.JSON 1.81 would make a
/// double of it).
std::string quote_numbers(std::string_view json);

/// order.invoiceNumber is at most 20 characters and a payment id is 30: the invoice number is
/// the first 20 of its 26 random base32 characters (100 bits: unique in any merchant's life),
/// so lookups by invoice number find exactly this payment's charge.
std::string invoice_number_for(std::string_view payment_id);

/// merchantCustomerId is at most 20 characters: a customer reference that fits (billpayd's keyed
/// pseudonym of the account does) is used as it is, a longer one by a digest of it ("h" and 19
/// hex digits of its SHA-256).
std::string merchant_customer_id_for(std::string_view account_number);

/// A token is customerProfileId "/" customerPaymentProfileId; a one-payment token, whose
/// customer profile was made for that payment alone (and is deleted with it), is marked
/// "once:".
struct profile_token {
    std::string customer_profile_id;
    std::string payment_profile_id;
    bool once = false;
    [[nodiscard]] std::string to_string() const;
    static std::optional<profile_token> parse(std::string_view token);
};

/// What a createTransactionResponse means for billpayd.
struct mapped_transaction {
    outcome result = outcome::failed;
    std::string decline_code;
    std::string message;  // Authorize.Net's own text: it never carries card data
    std::string trans_id;
};

/// transactionResponse.responseCode 1 approved, 2 declined, 3 error, 4 held for review (unknown:
/// the merchant decides later); its errors[0].errorCode (the response reason code) picks the
/// decline code or tells a processing error (failed) from an ambiguous one (unknown). Without a
/// transactionResponse the request failed as a whole: map_message_code.
mapped_transaction map_transaction(const response& r);

/// A response reason code (transactionResponse.errors[].errorCode) for the given responseCode.
mapped_transaction map_reason_code(std::string_view response_code, int reason_code);

/// An API message code (messages.message[0].code) of a request that failed as a whole, for a
/// call that may charge (`charging`: an internal error leaves the outcome unknown) or not. The
/// text of validation errors (E00003, E00013–E00016) is dropped: it quotes the refused value,
/// which in a tokenize request is card data.
mapped_transaction map_message_code(std::string_view code, std::string_view text, bool charging);

/// billpayd's brand name for Authorize.Net's cardType ("Visa", "MasterCard", "AmericanExpress",
/// "Discover", "JCB", "DinersClub").
std::string brand_of_card_type(std::string_view card_type);

}  // namespace billpay::gateway::authorizenet
