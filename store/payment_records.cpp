#include "store/payment_records.hpp"

#include <pqxx/pqxx>
#include <stdexcept>

#include "store/errors.hpp"
#include "store/outbox.hpp"

namespace billpay::store {
namespace {

// Every column of `payments` in the order read_payment expects, timestamps as RFC 3339 UTC.
constexpr const char* payment_columns =
    "id, client_id, account_number, bill_id, amount, amount_refunded, currency, status,"
    " confirmation, card_brand, card_last4, card_exp_month, card_exp_year, card_fingerprint,"
    " payment_method_id, processor, processor_token, processor_reference, decline_code,"
    " failure_message, customer_name, customer_email, metadata::text, recovery_attempts,"
    " needs_review, token_owned,"
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
    p.amount.unit = model::currency::parse(row[6].as<std::string>()).value();
    p.status = model::parse_payment_status(row[7].as<std::string>()).value();
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
    p.token_owned = row[25].as<bool>();
    p.created_at = row[26].as<std::string>();
    p.updated_at = row[27].as<std::string>();
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

void insert_payment(pqxx::transaction_base& tx, const payment_record& p,
                    std::chrono::milliseconds lease) {
    // Recovery leaves it alone until its request's lease has run out.
    tx.exec_params(
        "INSERT INTO payments (id, client_id, account_number, bill_id, amount, currency, status,"
        "  confirmation, card_brand, card_last4, card_exp_month, card_exp_year, card_fingerprint,"
        "  payment_method_id, processor, processor_token, customer_name, customer_email,"
        "  metadata, created_at, updated_at, next_recovery_at, token_owned)"
        " VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $10, $11, $12, $13, $14, $15,"
        "  $16, $17, $18::jsonb, $19::timestamptz, $19::timestamptz,"
        "  now() + $20 * interval '1 millisecond', $21)",
        p.id, p.client_id, p.account_number, p.bill_id, p.amount.minor_units,
        std::string(p.amount.unit.code()), p.confirmation, p.card.brand, p.card.last4,
        p.card.exp_month, p.card.exp_year, p.card.fingerprint, p.payment_method_id, p.processor,
        p.processor_token, p.customer_name, p.customer_email, p.metadata_json, p.created_at,
        lease.count(), p.token_owned);
}

payment_record finish_payment(pqxx::connection& conn, const std::string& payment_id,
                              const payment_outcome& outcome, const stored_response& answer,
                              const std::optional<outbox_entry>& message) {
    using model::payment_status;
    const bool final = outcome.status != payment_status::pending;
    if (final && !model::can_transition(payment_status::pending, outcome.status)) {
        throw illegal_transition("a pending payment cannot become " +
                                 std::string(model::to_string(outcome.status)));
    }
    pqxx::work tx(conn);
    std::optional<payment_record> now_stands;
    if (final) {
        // Only a pending payment changes; the row lock orders this against a peer finishing it.
        auto updated = tx.exec_params(
            std::string("UPDATE payments SET status = $2,"
                        "  processor_reference = coalesce($3, processor_reference),"
                        "  decline_code = $4, failure_message = $5, next_recovery_at = NULL,"
                        "  updated_at = $7::timestamptz,"
                        "  payment_method_id = coalesce($6, payment_method_id)"
                        " WHERE id = $1 AND status = 'pending' RETURNING ") +
                payment_columns,
            payment_id, std::string(model::to_string(outcome.status)), outcome.processor_reference,
            outcome.decline_code, outcome.failure_message, outcome.payment_method_id,
            outcome.updated_at);
        if (updated.empty()) {
            auto current = find_payment_in(tx, payment_id, false);
            if (!current) {
                throw failure(error::not_found);
            }
            return *current;  // finished by another process (the recovery worker, or a peer)
        }
        now_stands = read_payment(updated[0]);
    } else {
        now_stands = find_payment_in(tx, payment_id, false);
        if (!now_stands) {
            throw failure(error::not_found);
        }
        if (now_stands->status != payment_status::pending) {
            return *now_stands;  // a peer finished it meanwhile: its answer stands
        }
    }
    // The answer of the key that created it, unless that key has one already.
    auto keyed = tx.exec_params(
        "UPDATE idempotency_keys SET state = 'finished', response_status = $2,"
        "  response_body = $3, finished_at = now(), leased_until = NULL"
        " WHERE payment_id = $1 AND state = 'in_flight'",
        payment_id, answer.status, answer.body);
    // A payment's message goes out once per type; a pending notice only with the answer that
    // told the portal "pending" (a recovered payment goes straight to its receipt).
    if (message && (final || keyed.affected_rows() == 1)) {
        enqueue_message(tx, message->id, message->type, payment_id, message->body);
    }
    tx.commit();
    return *now_stands;
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
        add("status = ?", std::string(model::to_string(*f.status)));
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
            throw failure(error::not_found);
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
                    "   AND NOT EXISTS (SELECT 1 FROM idempotency_keys k"
                    "     WHERE k.payment_id = payments.id AND k.state = 'in_flight'"
                    "       AND k.leased_until > now())"
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
