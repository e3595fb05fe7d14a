#include "store/payment_records.hpp"

#include <pqxx/pqxx>
#include <stdexcept>

#include "store/outbox.hpp"

namespace billpay::store {
namespace {

// Every column of `payments` in the order read_payment expects, timestamps as RFC 3339 UTC.
constexpr const char* payment_columns =
    "id, client_id, account_number, bill_id, amount, amount_refunded, currency, status,"
    " confirmation, card_brand, card_last4, card_exp_month, card_exp_year, card_fingerprint,"
    " payment_method_id, processor, processor_token, processor_reference, decline_code,"
    " failure_message, customer_name, customer_email, metadata::text, recovery_attempts,"
    " needs_review,"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";

std::optional<std::string> optional_text(const pqxx::field& f) {
    return f.is_null() ? std::nullopt : std::optional<std::string>(f.as<std::string>());
}

payment_record read_payment(const pqxx::row& row) {
    payment_record p;
    p.id = row[0].as<std::string>();
    p.client_id = row[1].as<std::string>();
    p.account_number = row[2].as<std::string>();
    p.bill_id = optional_text(row[3]);
    p.amount.minor_units = row[4].as<std::int64_t>();
    p.amount_refunded = row[5].as<std::int64_t>();
    p.amount.unit = payments::currency::parse(row[6].as<std::string>()).value();
    p.status = payments::parse_payment_status(row[7].as<std::string>()).value();
    p.confirmation = row[8].as<std::string>();
    p.card = card_record{row[9].as<std::string>(), row[10].as<std::string>(), row[11].as<int>(),
                         row[12].as<int>(), row[13].as<std::string>()};
    p.payment_method_id = optional_text(row[14]);
    p.processor = row[15].as<std::string>();
    p.processor_token = row[16].as<std::string>();
    p.processor_reference = optional_text(row[17]);
    p.decline_code = optional_text(row[18]);
    p.failure_message = optional_text(row[19]);
    p.customer_name = row[20].as<std::string>();
    p.customer_email = row[21].as<std::string>();
    p.metadata_json = row[22].as<std::string>();
    p.recovery_attempts = row[23].as<int>();
    p.needs_review = row[24].as<bool>();
    p.created_at = row[25].as<std::string>();
    p.updated_at = row[26].as<std::string>();
    return p;
}

}  // namespace

std::optional<payment_record> find_payment_in(pqxx::transaction_base& tx, const std::string& id,
                                              bool for_update) {
    auto rows =
        tx.exec_params(std::string("SELECT ") + payment_columns + " FROM payments WHERE id = $1" +
                           (for_update ? " FOR UPDATE" : ""),
                       id);
    if (rows.empty()) {
        return std::nullopt;
    }
    return read_payment(rows[0]);
}

void insert_payment(pqxx::connection& conn, const payment_record& p,
                    const std::string& idempotency_key) {
    pqxx::work tx(conn);
    tx.exec_params(
        "INSERT INTO payments (id, client_id, account_number, bill_id, amount, currency, status,"
        "  confirmation, card_brand, card_last4, card_exp_month, card_exp_year, card_fingerprint,"
        "  payment_method_id, processor, processor_token, customer_name, customer_email,"
        "  metadata)"
        " VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $10, $11, $12, $13, $14, $15,"
        "  $16, $17, $18::jsonb)",
        p.id, p.client_id, p.account_number, p.bill_id, p.amount.minor_units,
        std::string(p.amount.unit.code()), p.confirmation, p.card.brand, p.card.last4,
        p.card.exp_month, p.card.exp_year, p.card.fingerprint, p.payment_method_id, p.processor,
        p.processor_token, p.customer_name, p.customer_email, p.metadata_json);
    tx.exec_params("UPDATE idempotency_keys SET payment_id = $1 WHERE client_id = $2 AND key = $3",
                   p.id, p.client_id, idempotency_key);
    tx.commit();
}

payment_record finish_payment(pqxx::connection& conn, const std::string& payment_id,
                              const payment_outcome& outcome, const state_writers& writers) {
    if (!payments::can_transition(payments::payment_status::pending, outcome.status)) {
        throw illegal_transition("a pending payment cannot become " +
                                 std::string(payments::to_string(outcome.status)));
    }
    pqxx::work tx(conn);
    // Only a pending payment changes; the row lock orders this against a peer finishing it.
    auto updated = tx.exec_params(
        std::string("UPDATE payments SET status = $2,"
                    "  processor_reference = coalesce($3, processor_reference),"
                    "  decline_code = $4, failure_message = $5, next_recovery_at = NULL,"
                    "  updated_at = now(), payment_method_id = coalesce($6, payment_method_id)"
                    " WHERE id = $1 AND status = 'pending' RETURNING ") +
            payment_columns,
        payment_id, std::string(payments::to_string(outcome.status)), outcome.processor_reference,
        outcome.decline_code, outcome.failure_message, outcome.payment_method_id);
    if (updated.empty()) {
        auto current = find_payment_in(tx, payment_id, false);
        if (!current) {
            throw std::invalid_argument("no such payment");
        }
        return *current;  // finished by another process (the recovery worker, or a peer)
    }
    auto finished = read_payment(updated[0]);
    if (writers.response) {
        auto response = writers.response(finished);
        tx.exec_params(
            "UPDATE idempotency_keys SET state = 'finished', response_status = $2,"
            "  response_body = $3, finished_at = now()"
            " WHERE payment_id = $1 AND state = 'in_flight'",
            payment_id, response.status, response.body);
    }
    if (writers.message) {
        if (auto message = writers.message(finished)) {
            enqueue_message(tx, message->id, message->type, payment_id, message->body);
        }
    }
    tx.commit();
    return finished;
}

stored_response record_pending_answer(pqxx::connection& conn, const std::string& payment_id,
                                      const std::string& client_id, const std::string& key,
                                      const state_writers& writers) {
    pqxx::work tx(conn);
    auto payment = find_payment_in(tx, payment_id, false).value();
    auto response = writers.response(payment);
    tx.exec_params(
        "UPDATE idempotency_keys SET state = 'finished', response_status = $3,"
        "  response_body = $4, finished_at = now()"
        " WHERE client_id = $1 AND key = $2 AND state = 'in_flight'",
        client_id, key, response.status, response.body);
    if (writers.message) {
        if (auto message = writers.message(payment)) {
            enqueue_message(tx, message->id, message->type, payment_id, message->body);
        }
    }
    tx.commit();
    return response;
}

std::optional<payment_record> find_payment(pqxx::connection& conn, const std::string& id) {
    pqxx::read_transaction tx(conn);
    return find_payment_in(tx, id, false);
}

payment_page list_payments(pqxx::connection& conn, const payment_filter& f) {
    pqxx::read_transaction tx(conn);
    std::string where = " WHERE true";
    std::vector<std::string> args;
    auto add = [&](const std::string& condition, const std::string& value) {
        args.push_back(value);
        // Built by appending: GCC 12 at -O3 misreports `"$" + std::to_string(n)` (-Wrestrict,
        // bug 105651).
        std::string placeholder(1, '$');
        placeholder.append(std::to_string(args.size()));
        std::string c = condition;
        for (auto at = c.find('?'); at != std::string::npos; at = c.find('?')) {
            c.replace(at, 1, placeholder);
        }
        where += " AND " + c;
    };
    if (f.account_number) {
        add("account_number = ?", *f.account_number);
    }
    if (f.status) {
        add("status = ?", std::string(payments::to_string(*f.status)));
    }
    if (f.needs_review) {
        add("needs_review = ?::boolean", *f.needs_review ? "true" : "false");
    }
    if (f.created_from) {
        add("created_at >= ?::timestamptz", *f.created_from);
    }
    if (f.created_to) {
        add("created_at < ?::timestamptz", *f.created_to);
    }
    if (f.starting_after) {
        // The cursor must itself be visible under the same filter: a portal cannot page from
        // another account's payment.
        std::string check =
            "SELECT 1 FROM payments" + where + " AND id = $" + std::to_string(args.size() + 1);
        std::vector<std::string> check_args = args;
        check_args.push_back(*f.starting_after);
        if (tx.exec_params(check, pqxx::prepare::make_dynamic_params(check_args)).empty()) {
            throw std::invalid_argument("starting_after");
        }
        add("(created_at, id) < (SELECT created_at, id FROM payments WHERE id = ?)",
            *f.starting_after);
    }
    std::string sql = std::string("SELECT ") + payment_columns + " FROM payments" + where +
                      " ORDER BY created_at DESC, id DESC LIMIT " + std::to_string(f.limit + 1);
    auto rows = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(args));
    payment_page page;
    for (const auto& row : rows) {
        if (static_cast<int>(page.payments.size()) == f.limit) {
            page.has_more = true;
            break;
        }
        page.payments.push_back(read_payment(row));
    }
    return page;
}

std::vector<payment_record> claim_payments_to_recover(pqxx::connection& conn,
                                                      std::int64_t pending_for_ms, int batch,
                                                      std::int64_t retry_after_ms) {
    pqxx::work tx(conn);
    auto rows = tx.exec_params(
        std::string("UPDATE payments SET recovery_attempts = recovery_attempts + 1,"
                    "  next_recovery_at = now() + make_interval(secs => $3::float8 / 1000)"
                    " WHERE id IN (SELECT id FROM payments WHERE status = 'pending'"
                    "   AND NOT needs_review"
                    "   AND created_at < now() - make_interval(secs => $1::float8 / 1000)"
                    "   AND coalesce(next_recovery_at, '-infinity') <= now()"
                    "   ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
                    " RETURNING ") +
            payment_columns,
        pending_for_ms, batch, retry_after_ms);
    tx.commit();
    std::vector<payment_record> out;
    for (const auto& row : rows) {
        out.push_back(read_payment(row));
    }
    return out;
}

void mark_needs_review(pqxx::connection& conn, const std::string& payment_id) {
    pqxx::work tx(conn);
    tx.exec_params(
        "UPDATE payments SET needs_review = true, next_recovery_at = NULL, updated_at = now()"
        " WHERE id = $1 AND status = 'pending'",
        payment_id);
    tx.commit();
}

}  // namespace billpay::store
