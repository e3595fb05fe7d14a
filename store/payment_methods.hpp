#pragma once

#include <optional>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "model/payment_method.hpp"
#include "store/payment_records.hpp"

namespace billpay::store {

using model::payment_method_record;

struct saved_method {
    payment_method_record method;
    bool created = false;  // false: the account already had this card (same keyed fingerprint)
};

/// Saves a card for an account, or returns the live one the account already has with the same
/// keyed fingerprint (then `method`'s token is not stored and the caller deletes it).
saved_method save_payment_method(pqxx::connection& conn, const payment_method_record& method);

/// The account's live saved cards, newest first.
std::vector<payment_method_record> list_payment_methods(pqxx::connection& conn,
                                                        const std::string& account_number);

/// A live saved card by id.
std::optional<payment_method_record> find_payment_method(pqxx::connection& conn,
                                                         const std::string& id);

/// Marks a saved card deleted (payments keep their reference to it); false when already gone.
bool delete_payment_method(pqxx::connection& conn, const std::string& id);

}  // namespace billpay::store
