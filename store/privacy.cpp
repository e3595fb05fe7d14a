#include "store/privacy.hpp"

#include <algorithm>
#include <cctype>
#include <pqxx/pqxx>
#include <utility>

#include "model/digest.hpp"
#include "store/database.hpp"
#include "store/rows.hpp"
#include "store/statements.hpp"

namespace billpay::store {
namespace {

std::optional<std::string> optional_text(const pqxx::field& f) {
    return f.is_null() ? std::nullopt : std::optional<std::string>(f.as<std::string>());
}

constexpr const char* utc_ms = "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'";

std::string utc(const std::string& column) {
    return "to_char(" + column + " AT TIME ZONE 'UTC', " + utc_ms + ")";
}

// Each kind of record's purge: the rows it selects (`candidates`, a query of ids or keys with
// $1 = the period in days, $2 = the batch size, $3 = the kind's watermark) and what it does to
// them (`apply`, $1 = the ids as text[]).
//
// The watermark keeps a nightly purge from reading years of rows it reduced long ago: every row
// of the kind older than it is done. When a kind has nothing left to do, its watermark moves to
// the oldest row still not done (a pending payment, a message still being sent) or else to the
// cutoff (`remaining`: $1 = the watermark, $2 = the period).
struct purge_rule {
    const char* name;
    std::string candidates;
    std::string apply;
    std::string remaining;  // empty: the kind needs no watermark (its rows are deleted)
    std::int64_t purge_counts::*count;
    int retention_policy::*days;
};

const std::vector<purge_rule>& purge_rules() {
    static const std::vector<purge_rule> rules = {
        // A final payment older than the period keeps what reconciliation and the ledger need.
        {"payments",
         "SELECT id FROM payments WHERE reduced_at IS NULL AND status <> 'pending'"
         " AND created_at >= $3::timestamptz AND created_at < now() - make_interval(days => $1)"
         " ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED",
         "UPDATE payments SET customer_name = NULL, customer_email = NULL, metadata = '{}',"
         " card_exp_month = NULL, card_exp_year = NULL, card_fingerprint = NULL,"
         " reduced_at = now() WHERE id = ANY($1::text[])",
         "SELECT min(created_at) FROM payments WHERE reduced_at IS NULL"
         " AND created_at >= $1::timestamptz AND created_at < now() - make_interval(days => $2)",
         &purge_counts::payments_reduced, &retention_policy::payment_days},
        {"refunds",
         "SELECT id FROM refunds WHERE reduced_at IS NULL AND status <> 'pending'"
         " AND created_at >= $3::timestamptz AND created_at < now() - make_interval(days => $1)"
         " ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED",
         "UPDATE refunds SET reason = '', reduced_at = now() WHERE id = ANY($1::text[])",
         "SELECT min(created_at) FROM refunds WHERE reduced_at IS NULL"
         " AND created_at >= $1::timestamptz AND created_at < now() - make_interval(days => $2)",
         &purge_counts::refunds_reduced, &retention_policy::payment_days},
        // A key's answer holds the customer's name and email; a key still leased is a request
        // still running (or one recovery waits for). A key that holds a payment or refund still
        // pending is kept however old: a retry with it must find that payment or refund, never
        // make a second (unknown is not no). So is a schedule run's key whose item it has not
        // recorded yet.
        {"idempotency_keys",
         "SELECT client_id || chr(31) || key FROM idempotency_keys k"
         " WHERE created_at < now() - make_interval(days => $1)"
         " AND (state = 'finished' OR coalesce(leased_until, locked_at) < now())"
         " AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.id = k.payment_id"
         "                  AND p.status = 'pending')"
         " AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.id = k.refund_id"
         "                  AND r.status = 'pending')"
         // A scheduled charge's key while its item is not recorded yet: the next schedule run
         // finds the charge under it (without it, it would charge again).
         " AND NOT EXISTS (SELECT 1 FROM scheduled_payments s WHERE s.status = 'running'"
         "                  AND k.client_id IN ('billpayd:schedule', 'billpayd:autopay')"
         "                  AND k.key = s.id || '/' || s.attempts)"
         " AND $3::timestamptz IS NOT NULL"
         " ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED",
         "DELETE FROM idempotency_keys WHERE client_id || chr(31) || key = ANY($1::text[])", "",
         &purge_counts::idempotency_keys_deleted, &retention_policy::idempotency_key_days},
        // A message still to be sent keeps its body; a delivered or dead one loses it.
        {"receipt_bodies",
         "SELECT id FROM outbox_messages WHERE status IN ('delivered', 'dead')"
         " AND body IS NOT NULL"
         " AND created_at >= $3::timestamptz AND created_at < now() - make_interval(days => $1)"
         " ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED",
         "UPDATE outbox_messages SET body = NULL, body_purged_at = now()"
         " WHERE id = ANY($1::text[])",
         "SELECT min(created_at) FROM outbox_messages WHERE body IS NOT NULL"
         " AND created_at >= $1::timestamptz AND created_at < now() - make_interval(days => $2)",
         &purge_counts::receipt_bodies_deleted, &retention_policy::receipt_body_days},
        // Deleted saved cards lose token, expiry and fingerprint when deleted; these are ones
        // deleted before that (days: none).
        {"payment_methods",
         "SELECT id FROM payment_methods WHERE deleted_at IS NOT NULL"
         " AND (processor_token IS NOT NULL OR card_fingerprint IS NOT NULL"
         "      OR card_exp_month IS NOT NULL) AND $1 >= 0 AND $3::timestamptz IS NOT NULL"
         " ORDER BY deleted_at LIMIT $2 FOR UPDATE SKIP LOCKED",
         "UPDATE payment_methods SET processor_token = NULL, card_exp_month = NULL,"
         " card_exp_year = NULL, card_fingerprint = NULL WHERE id = ANY($1::text[])",
         "", &purge_counts::payment_methods_reduced, nullptr},
        // A correction older than the period, of an account with no payment newer than it.
        {"account_contacts",
         "SELECT c.account_number FROM account_contacts c"
         " WHERE c.updated_at < now() - make_interval(days => $1)"
         " AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.account_number = c.account_number"
         "                 AND p.created_at >= now() - make_interval(days => $1))"
         " AND $3::timestamptz IS NOT NULL"
         " ORDER BY c.updated_at LIMIT $2 FOR UPDATE SKIP LOCKED",
         "DELETE FROM account_contacts WHERE account_number = ANY($1::text[])", "",
         &purge_counts::account_contacts_deleted, &retention_policy::payment_days},
        // A bill whose due date is older than the period: nothing pays it any more, and the
        // payments that did keep its account and bill id.
        {"bills",
         "SELECT account_number || chr(31) || bill_id FROM bills"
         " WHERE due_date < (now() - make_interval(days => $1))::date"
         " AND $3::timestamptz IS NOT NULL"
         " ORDER BY due_date LIMIT $2 FOR UPDATE SKIP LOCKED",
         "DELETE FROM bills WHERE account_number || chr(31) || bill_id = ANY($1::text[])", "",
         &purge_counts::bills_deleted, &retention_policy::payment_days},
        // A scheduled payment finished (paid, failed, canceled) longer ago than the period
        // loses the name and email it carried for the receipt, as a payment does.
        {"scheduled_payments",
         "SELECT id FROM scheduled_payments WHERE reduced_at IS NULL"
         " AND status IN ('paid', 'failed', 'canceled')"
         " AND updated_at >= $3::timestamptz AND updated_at < now() - make_interval(days => $1)"
         " ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED",
         "UPDATE scheduled_payments SET customer_name = NULL, customer_email = NULL,"
         " reduced_at = now() WHERE id = ANY($1::text[])",
         "SELECT min(updated_at) FROM scheduled_payments WHERE reduced_at IS NULL"
         " AND updated_at >= $1::timestamptz AND updated_at < now() - make_interval(days => $2)",
         &purge_counts::scheduled_payments_reduced, &retention_policy::payment_days},
    };
    return rules;
}

int days_of(const purge_rule& rule, const retention_policy& policy) {
    return rule.days == nullptr ? 0 : policy.*rule.days;
}

/// The kind's watermark ("-infinity" before its first complete purge).
std::string watermark_of(pqxx::transaction_base& tx, const purge_rule& rule) {
    auto row = tx.exec_params(
        "SELECT coalesce((SELECT reduced_through::text FROM retention_watermarks"
        "                 WHERE kind = $1), '-infinity')",
        std::string(rule.name));
    return row[0][0].as<std::string>();
}

}  // namespace

purge_counts count_purgeable(pqxx::connection& conn, const retention_policy& policy) {
    purge_counts counts;
    pqxx::read_transaction tx(conn);
    for (const auto& rule : purge_rules()) {
        // The candidates without their row locks (a read-only count takes none).
        std::string query = rule.candidates;
        query.erase(query.find(" LIMIT $2"));
        counts.*rule.count =
            tx.exec_params("SELECT count(*) FROM (" + query + ") AS c WHERE $2::int IS NOT NULL",
                           days_of(rule, policy), policy.batch_size, watermark_of(tx, rule))[0][0]
                .as<std::int64_t>();
    }
    return counts;
}

purge_counts purge_batch(pqxx::connection& conn, const retention_policy& policy) {
    purge_counts counts;
    for (const auto& rule : purge_rules()) {
        pqxx::work tx(conn);
        std::vector<std::string> ids;
        const auto watermark = watermark_of(tx, rule);
        for (const auto& row :
             tx.exec_params(rule.candidates, days_of(rule, policy), policy.batch_size, watermark)) {
            ids.push_back(row[0].as<std::string>());
        }
        if (!ids.empty()) {
            tx.exec_params(rule.apply, statements::text_array(ids));
        }
        if (std::cmp_less(ids.size(), policy.batch_size) && !rule.remaining.empty()) {
            // Done for now: what is older than the oldest row still not done is all done.
            tx.exec_params(
                "INSERT INTO retention_watermarks (kind, reduced_through)"
                " SELECT $3, coalesce((" +
                    rule.remaining +
                    "), now() - make_interval(days => $2))"
                    " ON CONFLICT (kind) DO UPDATE SET reduced_through ="
                    "   greatest(retention_watermarks.reduced_through, EXCLUDED.reduced_through)",
                watermark, days_of(rule, policy), std::string(rule.name));
        }
        tx.commit();
        counts.*rule.count = static_cast<std::int64_t>(ids.size());
    }
    return counts;
}

bool account_known(pqxx::connection& conn, const std::string& account_number) {
    pqxx::read_transaction tx(conn);
    return tx
        .exec_params(
            "SELECT EXISTS (SELECT 1 FROM payments WHERE account_number = $1)"
            " OR EXISTS (SELECT 1 FROM payment_methods WHERE account_number = $1)"
            " OR EXISTS (SELECT 1 FROM account_contacts WHERE account_number = $1)"
            " OR EXISTS (SELECT 1 FROM bills WHERE account_number = $1)",
            account_number)[0][0]
        .as<bool>();
}

account_data export_account(pqxx::connection& conn, const std::string& account_number,
                            const audit_entry& audit) {
    // The export and its audit row in one transaction. Read committed, not a repeatable-read
    // snapshot: the audit append must see the chain's latest row once it holds the chain's
    // lock, or two rows would name the same predecessor (a fork `audit verify` calls broken).
    pqxx::work tx(conn);
    account_data out;
    out.account_number = account_number;
    auto contact = tx.exec_params(
        "SELECT email, " + utc("updated_at") + " FROM account_contacts WHERE account_number = $1",
        account_number);
    if (!contact.empty()) {
        out.contact_email = contact[0][0].as<std::string>();
        out.contact_updated_at = contact[0][1].as<std::string>();
    }
    out.bills = bills_of(tx, account_number);
    out.autopay = autopay_of(tx, account_number);
    out.scheduled_payments = scheduled_payments_of(tx, account_number);
    std::vector<std::string> ids{account_number};
    for (const auto& row : tx.exec_params(std::string("SELECT ") + payment_columns +
                                              " FROM payments WHERE account_number = $1"
                                              " ORDER BY created_at DESC, id DESC",
                                          account_number)) {
        out.payments.push_back(read_payment(row));
        ids.push_back(out.payments.back().id);
    }
    for (const auto& row : tx.exec_params(std::string("SELECT ") + refund_columns +
                                              " FROM refunds WHERE payment_id IN"
                                              " (SELECT id FROM payments WHERE account_number = $1)"
                                              " ORDER BY created_at DESC, id DESC",
                                          account_number)) {
        out.refunds.push_back(read_refund(row));
        ids.push_back(out.refunds.back().id);
    }
    for (const auto& row :
         tx.exec_params(std::string("SELECT ") + method_columns + ", " + utc("deleted_at") +
                            " FROM payment_methods WHERE account_number = $1"
                            " ORDER BY created_at DESC, id DESC",
                        account_number)) {
        out.payment_methods.push_back({read_method(row), optional_text(row[11])});
        ids.push_back(out.payment_methods.back().method.id);
    }
    for (const auto& row : tx.exec_params("SELECT id, type, status, " + utc("created_at") + ", " +
                                              utc("delivered_at") +
                                              " FROM outbox_messages WHERE payment_id IN"
                                              " (SELECT id FROM payments WHERE account_number = $1)"
                                              " OR account_number = $1"  // AutoPay's notices
                                              " ORDER BY created_at DESC, id DESC",
                                          account_number)) {
        out.messages.push_back({row[0].as<std::string>(), row[1].as<std::string>(),
                                row[2].as<std::string>(), row[3].as<std::string>(),
                                optional_text(row[4])});
    }
    append_audit(tx, audit);
    // Rows naming the account or any of its records, this export's own included.
    for (const auto& row : tx.exec_params(
             "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
             " actor, source, action, records, reason, details, prev_hash, hash"
             " FROM audit_log WHERE string_to_array(records, ',') && $1::text[] ORDER BY id",
             statements::text_array(ids))) {
        audit_row a;
        a.id = row[0].as<std::int64_t>();
        a.at = row[1].as<std::string>();
        a.entry = audit_entry{row[2].as<std::string>(), row[3].as<std::string>(),
                              row[4].as<std::string>(), row[5].as<std::string>(),
                              row[6].as<std::string>(), row[7].as<std::string>()};
        a.prev_hash = row[8].as<std::string>();
        a.hash = row[9].as<std::string>();
        out.audit.push_back(std::move(a));
    }
    tx.commit();
    return out;
}

account_contact correct_email(pqxx::connection& conn, const std::string& account_number,
                              const std::string& email, const std::string& updated_by,
                              const audit_entry& audit) {
    pqxx::work tx(conn);
    auto row = tx.exec_params(
        "INSERT INTO account_contacts (account_number, email, updated_by, updated_at)"
        " VALUES ($1, $2, $3, clock_timestamp())"
        " ON CONFLICT (account_number) DO UPDATE SET email = EXCLUDED.email,"
        "   updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at"
        " RETURNING " +
            utc("updated_at"),
        account_number, email, updated_by)[0];
    append_audit(tx, audit);
    tx.commit();
    return {account_number, email, row[0].as<std::string>()};
}

std::vector<affected_account> breach_scope(pqxx::connection& conn, const std::string& from,
                                           const std::string& to, bool from_audit,
                                           const audit_entry& audit) {
    pqxx::work tx(conn);  // read committed: see export_account on the audit append
    // Records created or changed in the window; with from_audit, those the audit trail names
    // (reads, exports, refunds, replays) in it too. An account's current email is the newer of
    // its correction and its latest payment's address (a reduced payment has none).
    std::string sql =
        "WITH w AS (SELECT $1::timestamptz AS t1, $2::timestamptz AS t2),"
        " touched AS ("
        "  SELECT p.account_number FROM payments p, w"
        "   WHERE (p.created_at >= w.t1 AND p.created_at < w.t2)"
        "      OR (p.updated_at >= w.t1 AND p.updated_at < w.t2)"
        "  UNION SELECT p.account_number FROM refunds f JOIN payments p ON p.id = f.payment_id, w"
        "   WHERE (f.created_at >= w.t1 AND f.created_at < w.t2)"
        "      OR (f.updated_at >= w.t1 AND f.updated_at < w.t2)"
        "  UNION SELECT m.account_number FROM payment_methods m, w"
        "   WHERE (m.created_at >= w.t1 AND m.created_at < w.t2)"
        "      OR (m.deleted_at >= w.t1 AND m.deleted_at < w.t2)"
        "  UNION SELECT c.account_number FROM account_contacts c, w"
        "   WHERE c.updated_at >= w.t1 AND c.updated_at < w.t2"
        // Schedules and AutoPay carry the customer's name and email too.
        "  UNION SELECT s.account_number FROM scheduled_payments s, w"
        "   WHERE (s.created_at >= w.t1 AND s.created_at < w.t2)"
        "      OR (s.updated_at >= w.t1 AND s.updated_at < w.t2)"
        "  UNION SELECT e.account_number FROM autopay_enrollments e, w"
        "   WHERE (e.created_at >= w.t1 AND e.created_at < w.t2)"
        "      OR (e.updated_at >= w.t1 AND e.updated_at < w.t2)";
    if (from_audit) {
        sql +=
            "  UNION SELECT named.account_number FROM audit_log a, w,"
            "   LATERAL (SELECT p.account_number FROM payments p"
            "             WHERE p.id = ANY(string_to_array(a.records, ','))"
            "               OR p.account_number = ANY(string_to_array(a.records, ','))"
            "            UNION SELECT p.account_number FROM refunds f"
            "             JOIN payments p ON p.id = f.payment_id"
            "             WHERE f.id = ANY(string_to_array(a.records, ','))"
            "            UNION SELECT m.account_number FROM payment_methods m"
            "             WHERE m.id = ANY(string_to_array(a.records, ','))) AS named"
            "   WHERE a.at >= w.t1 AND a.at < w.t2";
    }
    sql +=
        ")"
        " SELECT t.account_number, coalesce(("
        "   SELECT e.email FROM ("
        "     SELECT c.email, c.updated_at AS at FROM account_contacts c"
        "      WHERE c.account_number = t.account_number"
        "     UNION ALL SELECT p.customer_email, p.created_at FROM payments p"
        "      WHERE p.account_number = t.account_number AND p.customer_email IS NOT NULL"
        "     UNION ALL SELECT s.customer_email, s.created_at FROM scheduled_payments s"
        "      WHERE s.account_number = t.account_number AND s.customer_email IS NOT NULL"
        "     UNION ALL SELECT a.customer_email, a.updated_at FROM autopay_enrollments a"
        "      WHERE a.account_number = t.account_number AND a.customer_email IS NOT NULL"
        "   ) e ORDER BY e.at DESC LIMIT 1), '')"
        " FROM touched t ORDER BY t.account_number";
    std::vector<affected_account> out;
    for (const auto& row : tx.exec_params(sql, from, to)) {
        out.push_back({row[0].as<std::string>(), row[1].as<std::string>()});
    }
    append_audit(tx, audit);
    tx.commit();
    return out;
}

std::int64_t queue_breach_notices(pqxx::connection& conn, const std::string& incident_id,
                                  const std::vector<breach_notice>& notices, bool dry_run,
                                  const audit_entry& audit) {
    pqxx::work tx(conn);
    // One notify at a time per incident: two runs at once cannot both count a notice as new.
    tx.exec_params("SELECT pg_advisory_xact_lock(hashtextextended($1, 11))", incident_id);
    std::int64_t queued = 0;
    for (const auto& n : notices) {
        std::string lowered = n.email;
        std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        const std::string recipient_key = model::sha256_hex(lowered);
        if (dry_run) {
            queued += tx.exec_params(
                            "SELECT 1 FROM outbox_messages WHERE type = 'breach_notice'"
                            " AND incident_id = $1 AND recipient_key = $2",
                            incident_id, recipient_key)
                              .empty()
                          ? 1
                          : 0;
            continue;
        }
        queued += tx.exec_params(
                        "INSERT INTO outbox_messages (id, type, incident_id, recipient_key, body)"
                        " VALUES ($1, 'breach_notice', $2, $3, $4)"
                        " ON CONFLICT (incident_id, recipient_key)"
                        "   WHERE type = 'breach_notice' DO NOTHING",
                        n.message_id, incident_id, recipient_key, n.body)
                      .affected_rows();
    }
    if (!dry_run) {
        append_audit(tx, audit);
    }
    tx.commit();
    return queued;
}

std::vector<std::string> processor_tokens_in_use(pqxx::connection& conn,
                                                 const std::string& processor,
                                                 std::int64_t window_ms) {
    pqxx::read_transaction tx(conn);
    std::vector<std::string> out;
    for (const auto& row : tx.exec_params(
             "SELECT processor_token FROM payment_methods"
             " WHERE processor = $1 AND deleted_at IS NULL AND processor_token IS NOT NULL"
             " UNION SELECT processor_token FROM payments WHERE processor = $1"
             "   AND (status = 'pending'"
             "        OR created_at > now() - $2::bigint * interval '1 millisecond')",
             processor, window_ms)) {
        out.push_back(row[0].as<std::string>());
    }
    return out;
}

boost::asio::awaitable<result<std::vector<std::string>>> privacy_records::processor_tokens_in_use(
    std::string processor, std::int64_t window_ms) {
    co_return co_await db_.call([&](pqxx::connection& conn) {
        return store::processor_tokens_in_use(conn, processor, window_ms);
    });
}

boost::asio::awaitable<result<purge_counts>> privacy_records::count_purgeable(
    retention_policy policy) {
    co_return co_await db_.call(
        [policy](pqxx::connection& conn) { return store::count_purgeable(conn, policy); });
}

boost::asio::awaitable<result<purge_counts>> privacy_records::purge_batch(retention_policy policy) {
    co_return co_await db_.call(
        [policy](pqxx::connection& conn) { return store::purge_batch(conn, policy); });
}

boost::asio::awaitable<result<void>> privacy_records::audit(audit_entry entry) {
    co_return co_await db_.call([&entry](pqxx::connection& conn) { append_audit(conn, entry); });
}

boost::asio::awaitable<result<account_data>> privacy_records::export_account(
    std::string account_number, audit_entry audit) {
    co_return co_await db_.call([&](pqxx::connection& conn) -> result<account_data> {
        if (!account_known(conn, account_number)) {
            return error::not_found;
        }
        return store::export_account(conn, account_number, audit);
    });
}

boost::asio::awaitable<result<account_contact>> privacy_records::correct_email(
    std::string account_number, std::string email, std::string updated_by, audit_entry audit) {
    co_return co_await db_.call([&](pqxx::connection& conn) {
        return store::correct_email(conn, account_number, email, updated_by, audit);
    });
}

boost::asio::awaitable<result<std::vector<affected_account>>> privacy_records::breach_scope(
    std::string from, std::string to, bool from_audit, audit_entry audit) {
    co_return co_await db_.call([&](pqxx::connection& conn) {
        return store::breach_scope(conn, from, to, from_audit, audit);
    });
}

boost::asio::awaitable<result<std::int64_t>> privacy_records::queue_breach_notices(
    std::string incident_id, std::vector<breach_notice> notices, bool dry_run, audit_entry audit) {
    auto queued = co_await db_.call([&](pqxx::connection& conn) {
        return store::queue_breach_notices(conn, incident_id, notices, dry_run, audit);
    });
    if (queued && *queued > 0) {
        db_.messages_added().raise();
    }
    co_return queued;
}

}  // namespace billpay::store
