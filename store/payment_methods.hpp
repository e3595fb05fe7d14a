#pragma once

#include <functional>
#include <optional>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "model/autopay.hpp"
#include "model/outbox_entry.hpp"
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

/// The notice an AutoPay enrollment ended by its card's deletion sends (autopay_ended): the
/// enrollment, and the card's brand and last four.
using autopay_ended_notice = std::function<model::outbox_entry(
    const model::autopay_enrollment& ended, const std::string& brand, const std::string& last4)>;

/// Marks a saved card deleted (payments keep their reference to it); false when already gone.
/// AutoPay from the card ends in the same transaction, and `ended_notice` (when set) is queued
/// for its customer in it too.
bool delete_payment_method(pqxx::connection& conn, const std::string& id,
                           const autopay_ended_notice& ended_notice = {});

}  // namespace billpay::store
