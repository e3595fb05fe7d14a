#include "store/settlements.hpp"

#include <map>
#include <pqxx/pqxx>
#include <tuple>

#include "store/database.hpp"

namespace billpay::store {
namespace {

/// A line as reconciliation reads it, with its day where the utility is (the time zone is the
/// query's parameter `time_zone_param`, e.g. "$3").
std::string line_columns(const std::string& time_zone_param) {
    return "line_id, to_char(settled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
           " kind, coalesce(reference, ''), coalesce(refund_reference, ''), currency, gross, fee,"
           " net, coalesce(payout_id, ''), to_char((settled_at AT TIME ZONE " +
           time_zone_param + ")::date, 'YYYY-MM-DD')";
}

settlement_line read_line(const pqxx::row& r) {
    return settlement_line{r[0].as<std::string>(),
                           r[1].as<std::string>(),
                           r[2].as<std::string>(),
                           r[3].as<std::string>(),
                           r[4].as<std::string>(),
                           r[5].as<std::string>(),
                           r[6].as<std::int64_t>(),
                           r[7].as<std::int64_t>(),
                           r[8].as<std::int64_t>(),
                           r[9].as<std::string>(),
                           0,
                           r[10].as<std::string>()};
}

std::optional<std::string> or_null(const std::string& text) {
    return text.empty() ? std::nullopt : std::optional<std::string>(text);
}

/// A text[] literal for `= ANY($n)`: libpqxx 6.4 has no array parameters of its own.
std::string array_literal(const std::vector<std::string>& items) {
    std::string out = "{";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) {
            out += ',';
        }
        out += '"';
        for (char c : items[i]) {
            if (c == '"' || c == '\\') {
                out += '\\';
            }
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

constexpr const char* rfc3339_utc_ms = "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'";

}  // namespace

import_result import_settlement(pqxx::connection& conn, const std::string& import_id,
                                const std::string& processor, const std::string& format,
                                const std::string& source, const std::string& content_sha256,
                                const std::vector<settlement_line>& lines,
                                const audit_entry& audit) {
    pqxx::work tx(conn);
    // One import per content at a time: a second process importing the same file waits here.
    tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", content_sha256);
    import_result out;
    auto existing = tx.exec_params("SELECT id FROM settlement_imports WHERE content_sha256 = $1",
                                   content_sha256);
    if (!existing.empty()) {
        out.already_imported = true;
        out.import_id = existing[0][0].as<std::string>();
        return out;
    }
    tx.exec_params(
        "INSERT INTO settlement_imports (id, processor, format, source, content_sha256,"
        " line_count, imported_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        import_id, processor, format, source, content_sha256, static_cast<int>(lines.size()),
        audit.actor);
    for (const auto& l : lines) {
        auto r = tx.exec_params(
            "INSERT INTO settlement_lines (import_id, processor, line_id, settled_at, kind,"
            " reference, refund_reference, currency, gross, fee, net, payout_id)"
            " VALUES ($1, $2, $3, $4::timestamptz, $5, $6, $7, $8, $9, $10, $11, $12)"
            " ON CONFLICT (processor, line_id) DO NOTHING",
            import_id, processor, l.line_id, l.settled_at, l.kind, or_null(l.reference),
            or_null(l.refund_reference), l.currency, l.gross, l.fee, l.net, or_null(l.payout_id));
        if (r.affected_rows() == 1) {
            ++out.inserted;
            continue;
        }
        // Known already: the same line again (reports overlap) is skipped; the same id with
        // other content is the processor restating it, and refuses the whole file.
        auto differs = tx.exec_params(
            "SELECT import_id, array_to_string(array_remove(ARRAY["
            " CASE WHEN settled_at IS DISTINCT FROM $3::timestamptz THEN 'settled_at' END,"
            " CASE WHEN kind IS DISTINCT FROM $4 THEN 'kind' END,"
            " CASE WHEN reference IS DISTINCT FROM $5 THEN 'reference' END,"
            " CASE WHEN refund_reference IS DISTINCT FROM $6 THEN 'refund_reference' END,"
            " CASE WHEN currency IS DISTINCT FROM $7 THEN 'currency' END,"
            " CASE WHEN gross IS DISTINCT FROM $8 THEN 'gross' END,"
            " CASE WHEN fee IS DISTINCT FROM $9 THEN 'fee' END,"
            " CASE WHEN net IS DISTINCT FROM $10 THEN 'net' END,"
            " CASE WHEN payout_id IS DISTINCT FROM $11 THEN 'payout_id' END], NULL), ', ')"
            " FROM settlement_lines WHERE processor = $1 AND line_id = $2",
            processor, l.line_id, l.settled_at, l.kind, or_null(l.reference),
            or_null(l.refund_reference), l.currency, l.gross, l.fee, l.net, or_null(l.payout_id));
        const auto fields = differs.empty() ? std::string() : differs[0][1].as<std::string>();
        if (fields.empty()) {
            ++out.skipped;
        } else {
            out.conflicts.push_back(
                line_conflict{l.line_id, l.source_line, fields, differs[0][0].as<std::string>()});
        }
    }
    if (!out.conflicts.empty()) {
        tx.abort();  // nothing of the file is kept
        out.inserted = 0;
        out.skipped = 0;
        return out;
    }
    append_audit(tx, audit);
    tx.commit();
    out.import_id = import_id;
    return out;
}

std::vector<settlement_line> lines_settled_between(pqxx::connection& conn, const std::string& from,
                                                   const std::string& to,
                                                   const std::string& time_zone) {
    pqxx::read_transaction tx(conn);
    std::vector<settlement_line> out;
    for (const auto& r :
         tx.exec_params("SELECT " + line_columns("$3") +
                            " FROM settlement_lines WHERE (settled_at AT TIME ZONE $3)::date"
                            " BETWEEN $1::date AND $2::date ORDER BY settled_at, id",
                        from, to, time_zone)) {
        out.push_back(read_line(r));
    }
    return out;
}

std::vector<settlement_line> lines_for_references(pqxx::connection& conn,
                                                  const std::vector<std::string>& references,
                                                  const std::string& time_zone) {
    pqxx::read_transaction tx(conn);
    std::vector<settlement_line> out;
    for (const auto& r :
         tx.exec_params("SELECT " + line_columns("$2") +
                            " FROM settlement_lines WHERE reference = ANY($1::text[])"
                            " OR refund_reference = ANY($1::text[])"
                            " ORDER BY settled_at, id",
                        array_literal(references), time_zone)) {
        out.push_back(read_line(r));
    }
    return out;
}

std::vector<ledger_payment> ledger_payments(pqxx::connection& conn, const std::string& from,
                                            const std::string& to, const std::string& time_zone,
                                            const std::vector<std::string>& references) {
    pqxx::read_transaction tx(conn);
    std::vector<ledger_payment> out;
    for (const auto& r : tx.exec_params(
             std::string("SELECT p.id, p.processor, coalesce(p.processor_reference, ''),"
                         " p.currency, p.amount,"
                         " coalesce((SELECT sum(amount) FROM refunds f WHERE f.payment_id = p.id"
                         "   AND f.status = 'succeeded' AND f.kind = 'void'), 0),"
                         " to_char(p.created_at AT TIME ZONE 'UTC', ") +
                 rfc3339_utc_ms +
                 "), to_char((p.created_at AT TIME ZONE $3)::date, 'YYYY-MM-DD')"
                 " FROM payments p"
                 " WHERE p.status IN ('succeeded', 'partially_refunded', 'refunded')"
                 " AND ((p.created_at AT TIME ZONE $3)::date BETWEEN $1::date AND $2::date"
                 "      OR p.processor_reference = ANY($4::text[]))"
                 " ORDER BY p.created_at, p.id",
             from, to, time_zone, array_literal(references))) {
        out.push_back(ledger_payment{r[0].as<std::string>(), r[1].as<std::string>(),
                                     r[2].as<std::string>(), r[3].as<std::string>(),
                                     r[4].as<std::int64_t>(), r[5].as<std::int64_t>(),
                                     r[6].as<std::string>(), r[7].as<std::string>()});
    }
    return out;
}

std::vector<ledger_refund> ledger_refunds(pqxx::connection& conn, const std::string& from,
                                          const std::string& to, const std::string& time_zone,
                                          const std::vector<std::string>& references) {
    pqxx::read_transaction tx(conn);
    std::vector<ledger_refund> out;
    for (const auto& r : tx.exec_params(
             std::string("SELECT f.id, f.payment_id, p.processor,"
                         " coalesce(f.processor_reference, ''),"
                         " coalesce(p.processor_reference, ''), f.currency, f.amount,"
                         " coalesce(f.kind, 'refund'), to_char(f.created_at AT TIME ZONE 'UTC', ") +
                 rfc3339_utc_ms +
                 "), to_char((f.created_at AT TIME ZONE $3)::date, 'YYYY-MM-DD')"
                 " FROM refunds f JOIN payments p ON p.id = f.payment_id"
                 " WHERE f.status = 'succeeded'"
                 " AND ((f.created_at AT TIME ZONE $3)::date BETWEEN $1::date AND $2::date"
                 "      OR f.processor_reference = ANY($4::text[]))"
                 " ORDER BY f.created_at, f.id",
             from, to, time_zone, array_literal(references))) {
        out.push_back(ledger_refund{r[0].as<std::string>(), r[1].as<std::string>(),
                                    r[2].as<std::string>(), r[3].as<std::string>(),
                                    r[4].as<std::string>(), r[5].as<std::string>(),
                                    r[6].as<std::int64_t>(), r[7].as<std::string>(),
                                    r[8].as<std::string>(), r[9].as<std::string>()});
    }
    return out;
}

void save_reconciliation(pqxx::connection& conn, const reconciliation_run& run,
                         const audit_entry& audit) {
    pqxx::work tx(conn);
    tx.exec_params(
        "INSERT INTO reconciliation_runs (id, date_from, date_to, run_by, matched, exceptions,"
        " summary) VALUES ($1, $2::date, $3::date, $4, $5, $6, $7::jsonb)",
        run.id, run.date_from, run.date_to, run.run_by, run.matched, run.exceptions,
        run.summary_json);
    for (const auto& i : run.items) {
        tx.exec_params(
            "INSERT INTO reconciliation_items (run_id, class, is_exception, processor, reference,"
            " payment_id, refund_id, line_id, expected, actual, currency, day, message)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::date, $13)",
            run.id, i.item_class, i.is_exception, or_null(i.processor), or_null(i.reference),
            or_null(i.payment_id), or_null(i.refund_id), or_null(i.line_id), i.expected, i.actual,
            or_null(i.currency), or_null(i.day), i.message);
    }
    append_audit(tx, audit);
    tx.commit();
}

namespace {

constexpr const char* item_columns =
    "class, is_exception, coalesce(processor, ''), coalesce(reference, ''),"
    " coalesce(payment_id, ''), coalesce(refund_id, ''), coalesce(line_id, ''), expected, actual,"
    " coalesce(currency, ''), coalesce(to_char(day, 'YYYY-MM-DD'), ''), message";

reconciliation_item read_item(const pqxx::row& r) {
    reconciliation_item i;
    i.item_class = r[0].as<std::string>();
    i.is_exception = r[1].as<bool>();
    i.processor = r[2].as<std::string>();
    i.reference = r[3].as<std::string>();
    i.payment_id = r[4].as<std::string>();
    i.refund_id = r[5].as<std::string>();
    i.line_id = r[6].as<std::string>();
    if (!r[7].is_null()) i.expected = r[7].as<std::int64_t>();
    if (!r[8].is_null()) i.actual = r[8].as<std::int64_t>();
    i.currency = r[9].as<std::string>();
    i.day = r[10].as<std::string>();
    i.message = r[11].as<std::string>();
    return i;
}

}  // namespace

std::optional<reconciliation_run> find_reconciliation(pqxx::connection& conn,
                                                      const std::string& id) {
    pqxx::read_transaction tx(conn);
    auto rows = tx.exec_params(
        std::string("SELECT id, to_char(date_from, 'YYYY-MM-DD'), to_char(date_to, 'YYYY-MM-DD'),"
                    " run_by, to_char(started_at AT TIME ZONE 'UTC', ") +
            rfc3339_utc_ms +
            "), matched, exceptions, summary::text FROM reconciliation_runs"
            " WHERE id = $1",
        id);
    if (rows.empty()) {
        return std::nullopt;
    }
    const auto& r = rows[0];
    reconciliation_run run{r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
                           r[3].as<std::string>(), r[4].as<std::string>(), r[5].as<int>(),
                           r[6].as<int>(),         r[7].as<std::string>(), {}};
    for (const auto& item : tx.exec_params(std::string("SELECT ") + item_columns +
                                               " FROM reconciliation_items WHERE run_id = $1"
                                               " ORDER BY is_exception DESC, id",
                                           id)) {
        run.items.push_back(read_item(item));
    }
    return run;
}

std::vector<reconciliation_item> latest_exceptions(pqxx::connection& conn, const std::string& from,
                                                   const std::string& to) {
    pqxx::read_transaction tx(conn);
    std::vector<reconciliation_item> out;
    for (const auto& r :
         tx.exec_params(std::string("SELECT ") + item_columns +
                            " FROM reconciliation_items WHERE is_exception AND run_id IN ("
                            "   SELECT DISTINCT ON (date_from, date_to) id FROM reconciliation_runs"
                            "   WHERE date_from <= $2::date AND date_to >= $1::date"
                            "   ORDER BY date_from, date_to, started_at DESC)"
                            " ORDER BY day, id",
                        from, to)) {
        out.push_back(read_item(r));
    }
    return out;
}

std::vector<daily_total> daily_totals(pqxx::connection& conn, const std::string& from,
                                      const std::string& to, const std::string& time_zone) {
    pqxx::read_transaction tx(conn);
    std::map<std::tuple<std::string, std::string, std::string>, daily_total> totals;
    auto at = [&](const pqxx::row& r) -> daily_total& {
        auto key =
            std::make_tuple(r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>());
        auto& t = totals[key];
        t.day = std::get<0>(key);
        t.processor = std::get<1>(key);
        t.currency = std::get<2>(key);
        return t;
    };
    for (const auto& r :
         tx.exec_params("SELECT to_char((created_at AT TIME ZONE $3)::date, 'YYYY-MM-DD'), "
                        "processor, currency,"
                        " count(*), sum(amount),"
                        " count(*) FILTER (WHERE client_id = 'billpayd:schedule'),"
                        " count(*) FILTER (WHERE client_id = 'billpayd:autopay') FROM payments"
                        " WHERE status IN ('succeeded', 'partially_refunded', 'refunded')"
                        " AND (created_at AT TIME ZONE $3)::date BETWEEN $1::date AND $2::date"
                        " GROUP BY 1, 2, 3",
                        from, to, time_zone)) {
        auto& t = at(r);
        t.payments_count = r[3].as<std::int64_t>();
        t.payments_sum = r[4].as<std::int64_t>();
        t.scheduled_count = r[5].as<std::int64_t>();
        t.autopay_count = r[6].as<std::int64_t>();
    }
    for (const auto& r : tx.exec_params(
             "SELECT to_char((f.created_at AT TIME ZONE $3)::date, 'YYYY-MM-DD'), p.processor,"
             " f.currency, count(*), sum(f.amount) FROM refunds f JOIN payments p"
             " ON p.id = f.payment_id WHERE f.status = 'succeeded'"
             " AND (f.created_at AT TIME ZONE $3)::date BETWEEN $1::date AND $2::date"
             " GROUP BY 1, 2, 3",
             from, to, time_zone)) {
        auto& t = at(r);
        t.refunds_count = r[3].as<std::int64_t>();
        t.refunds_sum = r[4].as<std::int64_t>();
    }
    for (const auto& r :
         tx.exec_params("SELECT to_char((settled_at AT TIME ZONE $3)::date, 'YYYY-MM-DD'), "
                        "processor, currency,"
                        " sum(fee) FROM settlement_lines"
                        " WHERE (settled_at AT TIME ZONE $3)::date BETWEEN $1::date AND $2::date"
                        " GROUP BY 1, 2, 3 HAVING sum(fee) <> 0",
                        from, to, time_zone)) {
        at(r).fees = r[3].as<std::int64_t>();
    }
    std::vector<daily_total> out;
    for (auto& [key, t] : totals) {
        out.push_back(t);
    }
    return out;
}

boost::asio::awaitable<result<import_result>> settlement_records::import(
    const std::string& import_id, const std::string& processor, const std::string& format,
    const std::string& source, const std::string& content_sha256,
    const std::vector<settlement_line>& lines, const audit_entry& audit) {
    co_return co_await db_.call([&](pqxx::connection& conn) {
        return import_settlement(conn, import_id, processor, format, source, content_sha256, lines,
                                 audit);
    });
}

boost::asio::awaitable<result<reconciliation_sources>> settlement_records::reconciliation_input(
    const std::string& from, const std::string& to, const std::string& time_zone) {
    co_return co_await db_.call([&](pqxx::connection& conn) {
        reconciliation_sources in;
        {
            pqxx::read_transaction tx(conn);
            in.today = tx.exec_params(
                             "SELECT to_char((now() AT TIME ZONE $1)::date,"
                             " 'YYYY-MM-DD')",
                             time_zone)[0][0]
                           .as<std::string>();
        }
        in.lines = lines_settled_between(conn, from, to, time_zone);
        std::vector<std::string> references;
        for (const auto& l : in.lines) {
            references.push_back(l.refund_reference.empty() ? l.reference : l.refund_reference);
            references.push_back(l.reference);
        }
        in.payments = ledger_payments(conn, from, to, time_zone, references);
        in.refunds = ledger_refunds(conn, from, to, time_zone, references);
        std::vector<std::string> ours;
        for (const auto& p : in.payments) {
            ours.push_back(p.reference);
        }
        for (const auto& r : in.refunds) {
            ours.push_back(r.reference);
        }
        in.other_lines = lines_for_references(conn, ours, time_zone);
        return in;
    });
}

boost::asio::awaitable<result<void>> settlement_records::save_reconciliation(
    const reconciliation_run& run, const audit_entry& audit) {
    co_return co_await db_.call(
        [&](pqxx::connection& conn) { store::save_reconciliation(conn, run, audit); });
}

boost::asio::awaitable<result<std::optional<reconciliation_run>>>
settlement_records::find_reconciliation(const std::string& id) {
    co_return co_await db_.call(
        [&id](pqxx::connection& conn) { return store::find_reconciliation(conn, id); });
}

boost::asio::awaitable<
    result<std::pair<std::vector<daily_total>, std::vector<reconciliation_item>>>>
settlement_records::daily(const std::string& from, const std::string& to,
                          const std::string& time_zone) {
    co_return co_await db_.call([&](pqxx::connection& conn) {
        return std::pair{daily_totals(conn, from, to, time_zone),
                         latest_exceptions(conn, from, to)};
    });
}

boost::asio::awaitable<result<std::pair<std::string, std::string>>>
settlement_records::days_before_today(const std::string& time_zone, int n) {
    co_return co_await db_.call([&time_zone, n](pqxx::connection& conn) {
        pqxx::read_transaction tx(conn);
        auto r = tx.exec_params(
            "SELECT to_char((now() AT TIME ZONE $1)::date - $2::int, 'YYYY-MM-DD'),"
            " to_char((now() AT TIME ZONE $1)::date - 1, 'YYYY-MM-DD')",
            time_zone, n);
        return std::pair{r[0][0].as<std::string>(), r[0][1].as<std::string>()};
    });
}

}  // namespace billpay::store
