#include "store/payment_records.hpp"

#include <pqxx/pqxx>
#include <stdexcept>

#include "store/errors.hpp"
#include "store/outbox.hpp"
#include "store/rows.hpp"
#include "store/statements.hpp"

namespace billpay::store {
namespace {

std::optional<std::string> optional_text(const pqxx::field& f) {
    return f.is_null() ? std::nullopt : std::optional<std::string>(f.as<std::string>());
}

}  // namespace

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
    p.reduced = row[28].as<bool>();
    p.notify_email = row[29].as<std::string>();
    return p;
}

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

payment_record finish_payment(pqxx::connection& conn, const payment_record& pending,
                              const payment_outcome& outcome, const stored_response& answer,
                              const std::optional<outbox_entry>& message) {
    using model::payment_status;
    const bool final = outcome.status != payment_status::pending;
    if (final && !model::can_transition(payment_status::pending, outcome.status)) {
        throw illegal_transition("a pending payment cannot become " +
                                 std::string(model::to_string(outcome.status)));
    }
    std::optional<std::string> message_id;
    std::optional<std::string> message_type;
    std::optional<std::string> message_body;
    if (message) {
        message_id = message->id;
        message_type = message->type;
        message_body = message->body;
    }
    std::string done;
    {
        pqxx::nontransaction tx(conn);  // one statement, one round trip, one synchronous commit
        done = tx.exec_prepared1(
                     statements::prepared(conn, statements::finish_payment), pending.id,
                     std::string(model::to_string(outcome.status)), outcome.processor_reference,
                     outcome.payment_method_id, outcome.decline_code, outcome.failure_message,
                     outcome.updated_at.empty() ? std::optional<std::string>() : outcome.updated_at,
                     answer.status, answer.body, message_id, message_type, message_body)[0]
                   .as<std::string>();
    }
    if (done == "applied") {
        return with_outcome(pending, outcome);  // nothing else changed: no need to read it back
    }
    // Finished by another process (the recovery worker, or a peer): its outcome stands.
    auto standing = find_payment(conn, pending.id);
    if (done == "not_found" || !standing) {
        throw failure(error::not_found);
    }
    return *standing;
}

std::optional<payment_record> find_payment(pqxx::connection& conn, const std::string& id) {
    pqxx::nontransaction tx(conn);
    auto rows = tx.exec_prepared(statements::prepared(conn, statements::find_payment), id);
    if (rows.empty()) {
        return std::nullopt;
    }
    return read_payment(rows[0]);
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

void defer_recovery(pqxx::connection& conn, const std::string& payment_id, std::int64_t after_ms) {
    pqxx::work tx(conn);
    tx.exec_params(
        "UPDATE payments SET next_recovery_at = now() + make_interval(secs => $2::float8 / 1000)"
        " WHERE id = $1 AND status = 'pending'",
        payment_id, after_ms);
    tx.commit();
}

}  // namespace billpay::store
