#include "store/simulator_ledger.hpp"

#include <pqxx/pqxx>

#include "payments/ids.hpp"

namespace billpay::store::simulator_ledger {
namespace {

/// The simulator's ledger stands for the processor's own database, not billpayd's records: it
/// need not wait for its commits to reach the disk (a PostgreSQL crash may lose its last few
/// milliseconds; a billpayd crash loses nothing). billpayd's own tables keep full durability.
void relax_durability(pqxx::work& tx) { tx.exec("SET LOCAL synchronous_commit = off"); }

}  // namespace

void save_token(pqxx::connection& conn, const std::string& token, const std::string& behaviour,
                const std::string& brand, const std::string& last4) {
    pqxx::work tx(conn);
    relax_durability(tx);
    tx.exec_params(
        "INSERT INTO simulator_tokens (token, behaviour, card_brand, card_last4)"
        " VALUES ($1, $2, $3, $4)",
        token, behaviour, brand, last4);
    tx.commit();
}

std::optional<std::string> token_behaviour(pqxx::connection& conn, const std::string& token) {
    pqxx::read_transaction tx(conn);
    auto rows = tx.exec_params("SELECT behaviour FROM simulator_tokens WHERE token = $1", token);
    if (rows.empty()) {
        return std::nullopt;
    }
    return rows[0][0].as<std::string>();
}

bool delete_token(pqxx::connection& conn, const std::string& token) {
    pqxx::work tx(conn);
    auto r = tx.exec_params("DELETE FROM simulator_tokens WHERE token = $1", token);
    tx.commit();
    return r.affected_rows() == 1;
}

namespace {
charge_row read_charge(const pqxx::row& row) {
    return charge_row{row[0].as<std::string>(), row[1].as<std::string>(),
                      row[2].is_null() ? std::string() : row[2].as<std::string>(),
                      row[3].as<std::int64_t>(), row[4].as<std::string>()};
}
}  // namespace

charge_row record_charge(pqxx::connection& conn, const std::string& key, const std::string& token,
                         std::int64_t amount, const std::string& currency,
                         const std::string& outcome, const std::string& decline_code) {
    pqxx::work tx(conn);
    relax_durability(tx);
    tx.exec_params(
        "INSERT INTO simulator_charges (idempotency_key, reference, token, amount, currency,"
        "  outcome, decline_code) VALUES ($1, $2, $3, $4, $5, $6, nullif($7, ''))"
        " ON CONFLICT (idempotency_key) DO NOTHING",
        key, payments::new_id("sim_ch"), token, amount, currency, outcome, decline_code);
    auto row = tx.exec_params(
        "SELECT reference, outcome, decline_code, amount, currency FROM simulator_charges"
        " WHERE idempotency_key = $1",
        key);
    tx.commit();
    return read_charge(row.at(0));
}

std::optional<charge_row> find_charge(pqxx::connection& conn, const std::string& key) {
    pqxx::read_transaction tx(conn);
    auto rows = tx.exec_params(
        "SELECT reference, outcome, decline_code, amount, currency FROM simulator_charges"
        " WHERE idempotency_key = $1",
        key);
    if (rows.empty()) {
        return std::nullopt;
    }
    return read_charge(rows[0]);
}

refund_row record_refund(pqxx::connection& conn, const std::string& key,
                         const std::string& charge_reference, std::int64_t amount,
                         const std::string& kind) {
    pqxx::work tx(conn);
    auto earlier =
        tx.exec_params("SELECT reference FROM simulator_refunds WHERE idempotency_key = $1", key);
    if (!earlier.empty()) {
        return {earlier[0][0].as<std::string>(), true};
    }
    auto updated = tx.exec_params(
        "UPDATE simulator_charges SET amount_refunded = amount_refunded + $2"
        " WHERE reference = $1 AND outcome = 'approved' AND amount_refunded + $2 <= amount",
        charge_reference, amount);
    if (updated.affected_rows() != 1) {
        return {"", false};
    }
    auto reference = payments::new_id(kind == "void" ? "sim_void" : "sim_re");
    tx.exec_params(
        "INSERT INTO simulator_refunds (idempotency_key, reference, charge_reference, amount, kind)"
        " VALUES ($1, $2, $3, $4, $5)",
        key, reference, charge_reference, amount, kind);
    tx.commit();
    return {reference, true};
}

}  // namespace billpay::store::simulator_ledger
