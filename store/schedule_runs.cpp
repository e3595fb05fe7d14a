#include "store/schedule_runs.hpp"

#include <set>

#include "model/ids.hpp"
#include "store/autopay.hpp"
#include "store/database.hpp"
#include "store/scheduled_payments.hpp"
#include "store/statements.hpp"

namespace billpay::store {
namespace {

/// A bill paid: a payment of its account and bill id that took money (as bills_of reads it).
constexpr const char* bill_paid_by =
    "(SELECT p.id FROM payments p WHERE p.account_number = b.account_number"
    "   AND p.bill_id = b.bill_id"
    "   AND p.status IN ('succeeded', 'partially_refunded', 'refunded')"
    " ORDER BY p.created_at LIMIT 1)";

/// The enrollment's bills: due on or after the day it enrolled, in the utility's time zone ($tz).
std::string enrolled_bills(const std::string& tz_param) {
    return "bills b JOIN autopay_enrollments e ON e.account_number = b.account_number"
           " JOIN payment_methods pm ON pm.id = e.payment_method_id"
           " WHERE b.due_date >= (e.created_at AT TIME ZONE " +
           tz_param + ")::date";
}

std::int64_t plan(pqxx::connection& conn, const std::string& day, const std::string& tz) {
    pqxx::work tx(conn);
    auto due = tx.exec_params(
        "SELECT b.account_number, b.bill_id, b.amount_due, b.currency,"
        " to_char(b.due_date - e.days_before_due, 'YYYY-MM-DD'), e.client_id,"
        " e.payment_method_id, coalesce(e.customer_name, ''), coalesce(e.customer_email, '')"
        " FROM " +
            enrolled_bills("$2") +
            " AND b.due_date - e.days_before_due <= $1::date"
            " AND NOT EXISTS (SELECT 1 FROM scheduled_payments s WHERE s.origin = 'autopay'"
            "   AND s.account_number = b.account_number AND s.bill_id = b.bill_id)"
            " AND " +
            bill_paid_by + " IS NULL",
        day, tz);
    std::int64_t planned = 0;
    for (const auto& r : due) {
        const auto account = r[0].as<std::string>();
        const auto bill = r[1].as<std::string>();
        auto id = model::id_for_key("sch", "autopay\n" + account + "\n" + bill);
        auto written = tx.exec_params(
            "INSERT INTO scheduled_payments (id, client_id, account_number, bill_id, amount,"
            " currency, payment_method_id, pay_on, customer_name, customer_email, origin)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::date, $9, $10, 'autopay')"
            " ON CONFLICT DO NOTHING",
            id, r[5].as<std::string>(), account, bill, r[2].as<std::int64_t>(),
            r[3].as<std::string>(), r[6].as<std::string>(), r[4].as<std::string>(),
            r[7].as<std::string>(), r[8].as<std::string>());
        planned += written.affected_rows();
    }
    tx.commit();
    return planned;
}

std::vector<upcoming_charge> upcoming(pqxx::connection& conn, const std::string& day,
                                      int notice_days, const std::string& tz) {
    pqxx::read_transaction tx(conn);
    auto rows =
        tx.exec_params(std::string("SELECT b.account_number, b.bill_id, b.amount_due, b.currency,"
                                   " to_char(b.due_date, 'YYYY-MM-DD'), b.client_id, ") +
                           autopay_columns +
                           ", to_char(b.due_date - e.days_before_due, 'YYYY-MM-DD'), pm.card_brand,"
                           " pm.card_last4 FROM " +
                           enrolled_bills("$3") +
                           " AND b.due_date - e.days_before_due > $1::date"
                           " AND b.due_date - e.days_before_due <= $1::date + $2::int"
                           " AND pm.deleted_at IS NULL AND " +
                           bill_paid_by +
                           " IS NULL"
                           " AND NOT EXISTS (SELECT 1 FROM outbox_messages m WHERE m.notice_key ="
                           "   'autopay_upcoming/' || b.account_number || '/' || b.bill_id)"
                           " ORDER BY b.account_number, b.bill_id",
                       day, notice_days, tz);
    std::vector<upcoming_charge> out;
    for (const auto& r : rows) {
        upcoming_charge c;
        c.bill.account_number = r[0].as<std::string>();
        c.bill.bill_id = r[1].as<std::string>();
        c.bill.amount_due.minor_units = r[2].as<std::int64_t>();
        c.bill.amount_due.unit = model::currency::parse(r[3].as<std::string>()).value();
        c.bill.due_date = r[4].as<std::string>();
        c.bill.client_id = r[5].as<std::string>();
        c.enrollment = read_autopay(r, 6);
        c.charge_on = r[15].as<std::string>();
        c.card_brand = r[16].as<std::string>();
        c.card_last4 = r[17].as<std::string>();
        out.push_back(std::move(c));
    }
    return out;
}

std::vector<expiring_card> expiring(pqxx::connection& conn, const std::string& day) {
    pqxx::read_transaction tx(conn);
    // A card is good through the last day of its expiry month.
    auto rows = tx.exec_params(
        std::string("SELECT ") + autopay_columns +
            ", pm.card_brand, pm.card_last4, pm.card_exp_month, pm.card_exp_year"
            " FROM autopay_enrollments e JOIN payment_methods pm ON pm.id = e.payment_method_id"
            " WHERE pm.deleted_at IS NULL"
            " AND make_date(pm.card_exp_year, pm.card_exp_month, 1) + interval '1 month'"
            "     - interval '1 day' <= $1::date + interval '1 month'"
            " AND NOT EXISTS (SELECT 1 FROM outbox_messages m WHERE m.notice_key ="
            "   'autopay_card_expiring/' || e.account_number || '/' || pm.id || '/'"
            "   || pm.card_exp_year || '-' || lpad(pm.card_exp_month::text, 2, '0'))"
            " ORDER BY e.account_number",
        day);
    std::vector<expiring_card> out;
    for (const auto& r : rows) {
        expiring_card c;
        c.enrollment = read_autopay(r, 0);
        c.card_brand = r[9].as<std::string>();
        c.card_last4 = r[10].as<std::string>();
        c.exp_month = r[11].as<int>();
        c.exp_year = r[12].as<int>();
        out.push_back(std::move(c));
    }
    return out;
}

std::vector<claimed_item> claim_items(pqxx::connection& conn, const run_claim& c) {
    pqxx::work tx(conn);
    // Two runs at once never hold one item (SKIP LOCKED); a claim that ran out is taken over
    // under the same attempt, so its charge is made under the same key.
    auto rows = tx.exec_params(
        std::string("WITH due AS ("
                    "  SELECT id FROM scheduled_payments"
                    "  WHERE claimed_by IS DISTINCT FROM $1"  // a run looks at an item once
                    "    AND ((status = 'scheduled'"
                    "          AND coalesce(next_attempt_on, pay_on) <= $2::date)"
                    "      OR (status = 'running' AND claimed_until < now()))"
                    "  ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED),"
                    " claimed AS ("
                    "  UPDATE scheduled_payments s SET status = 'running', claimed_by = $1,"
                    "   claimed_until = now() + make_interval(secs => $4::bigint / 1000.0),"
                    "   attempts = CASE WHEN s.status = 'scheduled' THEN s.attempts + 1"
                    "                   ELSE s.attempts END,"
                    "   updated_at = now()"
                    "  FROM due WHERE s.id = due.id RETURNING s.*)"
                    " SELECT ") +
            scheduled_payment_columns +
            ", pm.deleted_at IS NULL, coalesce(pm.card_exp_month, 0),"
            " coalesce(pm.card_exp_year, 0), pm.card_brand, pm.card_last4,"
            " e.payment_method_id IS NOT NULL AND e.payment_method_id = s.payment_method_id,"
            " e.max_amount, " +
            bill_paid_by +
            ", to_char(b.due_date, 'YYYY-MM-DD')"
            " FROM claimed s JOIN payment_methods pm ON pm.id = s.payment_method_id"
            " LEFT JOIN autopay_enrollments e ON s.origin = 'autopay'"
            "   AND e.account_number = s.account_number"
            " LEFT JOIN bills b ON s.origin = 'autopay' AND b.account_number = s.account_number"
            "   AND b.bill_id = s.bill_id"
            " ORDER BY s.id",
        c.run_id, c.day, c.batch, static_cast<std::int64_t>(c.lease.count()));
    tx.commit();
    std::vector<claimed_item> out;
    out.reserve(rows.size());
    for (const auto& r : rows) {
        claimed_item item;
        item.payment = read_scheduled_payment(r);
        item.card_saved = r[18].as<bool>();
        item.card_exp_month = r[19].as<int>();
        item.card_exp_year = r[20].as<int>();
        item.card_brand = r[21].as<std::string>();
        item.card_last4 = r[22].as<std::string>();
        item.enrolled = !r[23].is_null() && r[23].as<bool>();
        if (!r[24].is_null()) {
            item.max_amount = r[24].as<std::int64_t>();
        }
        if (!r[25].is_null()) {
            item.bill_paid_by = r[25].as<std::string>();
        }
        if (!r[26].is_null()) {
            item.due_date = r[26].as<std::string>();
        }
        out.push_back(std::move(item));
    }
    return out;
}

std::string_view status_after(item_end end) {
    switch (end) {
        case item_end::paid:
            return "paid";
        case item_end::failed:
            return "failed";
        case item_end::retry:
            return "scheduled";
        case item_end::canceled:
            return "canceled";
        case item_end::pending:
        case item_end::release:
            return "running";
    }
    return "running";
}

/// How a batch ended, in one statement (the items of one run are written together), then the
/// notices of the items it still held. Per outcome, whether it was written.
std::vector<bool> end_batch(pqxx::connection& conn, const std::vector<item_outcome>& outcomes) {
    std::vector<std::string> ids, statuses, payments, failures, next_days;
    std::vector<long long> uncounted, holds;
    std::string run_id;
    for (const auto& o : outcomes) {
        ids.push_back(o.id);
        statuses.emplace_back(status_after(o.end));
        payments.push_back(o.payment_id.value_or(""));
        failures.push_back(o.failure_code.value_or(""));
        next_days.push_back(o.next_attempt_on.value_or(""));
        uncounted.push_back(o.attempt_uncounted ? 1 : 0);
        const bool held = o.end == item_end::pending || o.end == item_end::release;
        holds.push_back(held ? static_cast<long long>(o.hold.count()) : -1);
        run_id = o.run_id;
    }
    pqxx::work tx(conn);
    auto rows = tx.exec_params(
        "UPDATE scheduled_payments s SET status = o.status,"
        " payment_id = coalesce(nullif(o.payment_id, ''), s.payment_id),"
        " failure_code = nullif(o.failure_code, ''),"
        " next_attempt_on = CASE WHEN o.status = 'scheduled' THEN nullif(o.next_day, '')::date"
        "                   ELSE s.next_attempt_on END,"
        " attempts = s.attempts - o.uncounted,"
        " claimed_until = now() + make_interval(secs => o.hold_ms / 1000.0),"
        " updated_at = now()"
        " FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],"
        "             $8::bigint[]) AS o(id, status, payment_id, failure_code, next_day, uncounted,"
        "                                 hold_ms)"
        " WHERE s.id = o.id AND s.claimed_by = $1 AND s.status = 'running'"
        " RETURNING s.id",
        run_id, statements::text_array(ids), statements::text_array(statuses),
        statements::text_array(payments), statements::text_array(failures),
        statements::text_array(next_days), statements::integer_array(uncounted),
        statements::integer_array(holds, true));
    std::set<std::string> written;
    for (const auto& r : rows) {
        written.insert(r[0].as<std::string>());
    }
    std::vector<bool> ended;
    ended.reserve(outcomes.size());
    for (const auto& o : outcomes) {
        const bool mine = written.contains(o.id);
        if (mine && o.notice) {
            enqueue_account_notice(tx, *o.notice);
        }
        ended.push_back(mine);  // not: another run took the claim over, and its word stands
    }
    tx.commit();
    return ended;
}

schedule_figures read_schedule_figures(pqxx::connection& conn, const std::string& tz) {
    pqxx::read_transaction tx(conn);
    schedule_figures f;
    auto last = tx.exec(
        "SELECT to_char(day, 'YYYY-MM-DD'), extract(epoch FROM finished_at)::float8, due,"
        " charged, failed, pending, retrying FROM schedule_runs WHERE finished_at IS NOT NULL"
        " ORDER BY finished_at DESC LIMIT 1");
    if (!last.empty()) {
        f.last_finished_day = last[0][0].as<std::string>();
        f.last_finished_at = last[0][1].as<double>();
        f.last = run_counts{last[0][2].as<std::int64_t>(), last[0][3].as<std::int64_t>(),
                            last[0][4].as<std::int64_t>(), last[0][5].as<std::int64_t>(),
                            last[0][6].as<std::int64_t>()};
    }
    auto now = tx.exec_params1(
        "SELECT (SELECT count(*) FROM scheduled_payments WHERE status = 'scheduled'"
        "          AND coalesce(next_attempt_on, pay_on) <= (now() AT TIME ZONE $1)::date),"
        "       (SELECT count(*) FROM scheduled_payments WHERE status = 'running'),"
        "       (now() AT TIME ZONE $1)::time >= time '09:00'"
        "       AND NOT EXISTS (SELECT 1 FROM schedule_runs WHERE finished_at IS NOT NULL"
        "                         AND day = (now() AT TIME ZONE $1)::date)",
        tz);
    f.due_now = now[0].as<std::int64_t>();
    f.running = now[1].as<std::int64_t>();
    f.run_overdue = now[2].as<bool>();
    return f;
}

}  // namespace

bool enqueue_account_notice(pqxx::transaction_base& tx, const account_notice& n) {
    auto r = tx.exec_params(
        "INSERT INTO outbox_messages (id, type, notice_key, account_number, body)"
        " VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (notice_key) WHERE notice_key IS NOT NULL DO NOTHING",
        n.message.id, n.message.type, n.key, n.account_number, n.message.body);
    return r.affected_rows() == 1;
}

boost::asio::awaitable<result<std::string>> schedule_run_records::local_day(
    const std::string& time_zone, const std::string& at) {
    co_return co_await db_.call([&](pqxx::connection& conn) {
        pqxx::read_transaction tx(conn);
        return tx
            .exec_params1(
                "SELECT to_char((coalesce($2::timestamptz, now()) AT TIME ZONE $1)::date,"
                " 'YYYY-MM-DD')",
                time_zone, at.empty() ? std::optional<std::string>() : at)[0]
            .as<std::string>();
    });
}

boost::asio::awaitable<result<void>> schedule_run_records::begin_run(const std::string& run_id,
                                                                     const std::string& day,
                                                                     const std::string& host) {
    co_return co_await db_.call([&](pqxx::connection& conn) {
        pqxx::work tx(conn);
        tx.exec_params("INSERT INTO schedule_runs (id, day, host) VALUES ($1, $2::date, $3)",
                       run_id, day, host);
        tx.commit();
    });
}

boost::asio::awaitable<result<void>> schedule_run_records::end_run(const std::string& run_id,
                                                                   const run_counts& c) {
    co_return co_await db_.call([&](pqxx::connection& conn) {
        pqxx::work tx(conn);
        tx.exec_params(
            "UPDATE schedule_runs SET finished_at = now(), due = $2, charged = $3, failed = $4,"
            " pending = $5, retrying = $6 WHERE id = $1",
            run_id, c.due, c.charged, c.failed, c.pending, c.retrying);
        tx.commit();
    });
}

boost::asio::awaitable<result<std::int64_t>> schedule_run_records::plan_autopay(
    const std::string& day, const std::string& time_zone) {
    co_return co_await db_.call([&](pqxx::connection& conn) { return plan(conn, day, time_zone); });
}

boost::asio::awaitable<result<std::vector<upcoming_charge>>> schedule_run_records::upcoming_charges(
    const std::string& day, int notice_days, const std::string& time_zone) {
    co_return co_await db_.call(
        [&](pqxx::connection& conn) { return upcoming(conn, day, notice_days, time_zone); });
}

boost::asio::awaitable<result<std::vector<expiring_card>>> schedule_run_records::expiring_cards(
    const std::string& day) {
    co_return co_await db_.call([&](pqxx::connection& conn) { return expiring(conn, day); });
}

boost::asio::awaitable<result<std::int64_t>> schedule_run_records::queue_notices(
    const std::vector<account_notice>& notices) {
    co_return co_await db_.call([&](pqxx::connection& conn) {
        pqxx::work tx(conn);
        std::int64_t queued = 0;
        for (const auto& n : notices) {
            queued += enqueue_account_notice(tx, n) ? 1 : 0;
        }
        tx.commit();
        return queued;
    });
}

boost::asio::awaitable<result<std::vector<claimed_item>>> schedule_run_records::claim(
    const run_claim& c) {
    co_return co_await db_.call([&](pqxx::connection& conn) { return claim_items(conn, c); });
}

boost::asio::awaitable<result<std::optional<std::string>>> schedule_run_records::payment_of_key(
    const std::string& client_id, const std::string& key) {
    co_return co_await db_.call([&](pqxx::connection& conn) -> std::optional<std::string> {
        pqxx::read_transaction tx(conn);
        auto rows = tx.exec_params(
            "SELECT payment_id FROM idempotency_keys WHERE client_id = $1 AND key = $2", client_id,
            key);
        if (rows.empty() || rows[0][0].is_null()) {
            return std::nullopt;
        }
        return rows[0][0].as<std::string>();
    });
}

boost::asio::awaitable<result<std::vector<bool>>> schedule_run_records::end_items(
    const std::vector<item_outcome>& outcomes) {
    if (outcomes.empty()) {
        co_return std::vector<bool>{};
    }
    co_return co_await db_.call([&](pqxx::connection& conn) { return end_batch(conn, outcomes); });
}

boost::asio::awaitable<result<schedule_figures>> schedule_run_records::figures(
    const std::string& time_zone) {
    co_return co_await db_.call(
        [&](pqxx::connection& conn) { return read_schedule_figures(conn, time_zone); });
}

}  // namespace billpay::store
