#include "store/payment_methods.hpp"

#include <pqxx/pqxx>

#include "store/autopay.hpp"
#include "store/rows.hpp"
#include "store/schedule_runs.hpp"
#include "store/statements.hpp"

namespace billpay::store {

payment_method_record read_method(const pqxx::row& row) {
    payment_method_record m;
    m.id = row[0].as<std::string>();
    m.client_id = row[1].as<std::string>();
    m.account_number = row[2].as<std::string>();
    m.processor = row[3].as<std::string>();
    m.processor_token = row[4].as<std::string>();
    m.card = card_record{row[5].as<std::string>(), row[6].as<std::string>(), row[7].as<int>(),
                         row[8].as<int>(), row[9].as<std::string>()};
    m.created_at = row[10].as<std::string>();
    return m;
}

saved_method save_payment_method(pqxx::connection& conn, const payment_method_record& m) {
    pqxx::work tx(conn);
    auto inserted = tx.exec_params(
        std::string("INSERT INTO payment_methods (id, client_id, account_number, processor,"
                    "  processor_token, card_brand, card_last4, card_exp_month, card_exp_year,"
                    "  card_fingerprint)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                    " ON CONFLICT (account_number, card_fingerprint) WHERE deleted_at IS NULL"
                    " DO NOTHING RETURNING ") +
            method_columns,
        m.id, m.client_id, m.account_number, m.processor, m.processor_token, m.card.brand,
        m.card.last4, m.card.exp_month, m.card.exp_year, m.card.fingerprint);
    if (!inserted.empty()) {
        tx.commit();
        return {read_method(inserted[0]), true};
    }
    auto existing = tx.exec_params(std::string("SELECT ") + method_columns +
                                       " FROM payment_methods WHERE account_number = $1"
                                       "   AND card_fingerprint = $2 AND deleted_at IS NULL",
                                   m.account_number, m.card.fingerprint);
    tx.commit();
    return {read_method(existing.at(0)), false};
}

std::vector<payment_method_record> list_payment_methods(pqxx::connection& conn,
                                                        const std::string& account_number) {
    pqxx::read_transaction tx(conn);
    auto rows = tx.exec_params(std::string("SELECT ") + method_columns +
                                   " FROM payment_methods WHERE account_number = $1"
                                   "   AND deleted_at IS NULL ORDER BY created_at DESC, id DESC",
                               account_number);
    std::vector<payment_method_record> out;
    for (const auto& row : rows) {
        out.push_back(read_method(row));
    }
    return out;
}

std::optional<payment_method_record> find_payment_method(pqxx::connection& conn,
                                                         const std::string& id) {
    pqxx::nontransaction tx(conn);
    auto rows = tx.exec_prepared(statements::prepared(conn, statements::find_payment_method), id);
    if (rows.empty()) {
        return std::nullopt;
    }
    return read_method(rows[0]);
}

bool delete_payment_method(pqxx::connection& conn, const std::string& id,
                           const autopay_ended_notice& ended_notice) {
    pqxx::work tx(conn);
    auto r = tx.exec_params(
        // Deleted at once (the privacy policy): only brand, last 4 and dates stay, for the
        // payments that name the card.
        "UPDATE payment_methods SET deleted_at = now(), processor_token = NULL,"
        " card_exp_month = NULL, card_exp_year = NULL, card_fingerprint = NULL"
        " WHERE id = $1 AND deleted_at IS NULL",
        id);
    // AutoPay from this card ends with it, in the same transaction: no run charges a card that
    // is gone (an enrollment being written waits on the card's row, and is ended here after).
    auto ended =
        tx.exec_params(std::string("DELETE FROM autopay_enrollments e USING payment_methods pm"
                                   " WHERE e.payment_method_id = $1 AND pm.id = e.payment_method_id"
                                   " RETURNING pm.card_brand, pm.card_last4, ") +
                           autopay_columns,
                       id);
    for (const auto& row : ended) {
        const auto e = read_autopay(row, 2);
        if (ended_notice && !e.customer_email.empty()) {
            // The customer is told their bills are no longer paid for them.
            const auto message =
                ended_notice(e, row[0].as<std::string>(), row[1].as<std::string>());
            enqueue_account_notice(
                tx, account_notice{"autopay_ended/" + e.account_number + "/" + e.payment_method_id,
                                   e.account_number, message});
        }
    }
    tx.commit();
    return r.affected_rows() == 1;
}

}  // namespace billpay::store
