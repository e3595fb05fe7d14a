#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/connection>
#include <string>

namespace billpay::store::simulator_ledger {

/// The simulator processor's memory (tables simulator_*): what a real processor would keep on
/// its side. Only gateway_adapters/simulator uses it.

void save_token(pqxx::connection& conn, const std::string& token, const std::string& behaviour,
                const std::string& brand, const std::string& last4);

/// The behaviour recorded for a token, if the token exists.
std::optional<std::string> token_behaviour(pqxx::connection& conn, const std::string& token);

bool delete_token(pqxx::connection& conn, const std::string& token);

struct charge_row {
    std::string reference;
    std::string outcome;  // approved | declined | failed
    std::string decline_code;
    std::int64_t amount = 0;
    std::string currency;
};

/// Records a charge under the idempotency key unless one is there; returns the charge the key
/// stands for (the new one, or the earlier one: a processor never charges a key twice).
charge_row record_charge(pqxx::connection& conn, const std::string& key, const std::string& token,
                         std::int64_t amount, const std::string& currency,
                         const std::string& outcome, const std::string& decline_code);

std::optional<charge_row> find_charge(pqxx::connection& conn, const std::string& key);

struct refund_row {
    std::string reference;
    bool accepted = false;  // false: more than what remains of the charge, or no such charge
};

/// Records a refund or void (kind) of `amount` against a charge, idempotently by key.
refund_row record_refund(pqxx::connection& conn, const std::string& key,
                         const std::string& charge_reference, std::int64_t amount,
                         const std::string& kind);

}  // namespace billpay::store::simulator_ledger
