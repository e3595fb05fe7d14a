#include "store/scheduled_payments.hpp"

#include "store/database.hpp"

namespace billpay::store {

const char* const scheduled_payment_columns =
    "s.id, s.client_id, s.account_number, s.bill_id, s.amount, s.currency, s.payment_method_id,"
    " to_char(s.pay_on, 'YYYY-MM-DD'), coalesce(s.customer_name, ''),"
    " coalesce(s.customer_email, ''), s.status, s.payment_id,"
    " to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " to_char(s.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " s.origin, s.attempts, to_char(s.next_attempt_on, 'YYYY-MM-DD'), s.failure_code";

scheduled_payment_record read_scheduled_payment(const pqxx::row& r) {
    scheduled_payment_record p;
    p.id = r[0].as<std::string>();
    p.client_id = r[1].as<std::string>();
    p.account_number = r[2].as<std::string>();
    if (!r[3].is_null()) {
        p.bill_id = r[3].as<std::string>();
    }
    p.amount.minor_units = r[4].as<std::int64_t>();
    p.amount.unit = model::currency::parse(r[5].as<std::string>()).value();
    p.payment_method_id = r[6].as<std::string>();
    p.pay_on = r[7].as<std::string>();
    p.customer_name = r[8].as<std::string>();
    p.customer_email = r[9].as<std::string>();
    p.status = model::parse_schedule_status(r[10].as<std::string>()).value();
    if (!r[11].is_null()) {
        p.payment_id = r[11].as<std::string>();
    }
    p.created_at = r[12].as<std::string>();
    p.updated_at = r[13].as<std::string>();
    p.origin = r[14].as<std::string>() == "autopay" ? model::payment_origin::autopay
                                                    : model::payment_origin::schedule;
    p.attempts = r[15].as<int>();
    if (!r[16].is_null()) {
        p.next_attempt_on = r[16].as<std::string>();
    }
    if (!r[17].is_null()) {
        p.failure_code = r[17].as<std::string>();
    }
    return p;
}

schedule_written schedule_payment(pqxx::connection& conn, const scheduled_payment_record& p,
                                  const std::string& time_zone, int horizon_days) {
    pqxx::work tx(conn);
    schedule_written out;
    auto earlier = tx.exec_params(std::string("SELECT ") + scheduled_payment_columns +
                                      " FROM scheduled_payments s WHERE id = $1",
                                  p.id);
    if (!earlier.empty()) {
        auto e = read_scheduled_payment(earlier[0]);
        const bool same = e.account_number == p.account_number && e.bill_id == p.bill_id &&
                          e.amount == p.amount && e.payment_method_id == p.payment_method_id &&
                          e.pay_on == p.pay_on;
        out.status = same ? schedule_write::scheduled : schedule_write::id_taken;
        out.payment = std::move(e);
        return out;
    }
    auto day = tx.exec_params1(
        "SELECT to_char((now() AT TIME ZONE $1)::date, 'YYYY-MM-DD'),"
        " $2::date BETWEEN (now() AT TIME ZONE $1)::date"
        "              AND (now() AT TIME ZONE $1)::date + $3::int",
        time_zone, p.pay_on, horizon_days);
    out.today = day[0].as<std::string>();
    if (!day[1].as<bool>()) {
        out.status = schedule_write::pay_on_out_of_range;
        return out;
    }
    auto card = tx.exec_params(
        "SELECT 1 FROM payment_methods WHERE id = $1 AND account_number = $2"
        " AND deleted_at IS NULL FOR SHARE",
        p.payment_method_id, p.account_number);
    if (card.empty()) {
        out.status = schedule_write::no_such_payment_method;
        return out;
    }
    auto rows = tx.exec_params(
        std::string("INSERT INTO scheduled_payments AS s (id, client_id, account_number, bill_id,"
                    " amount, currency, payment_method_id, pay_on, customer_name,"
                    " customer_email) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::date, $9, $10)"
                    " ON CONFLICT (id) DO NOTHING RETURNING ") +
            scheduled_payment_columns,
        p.id, p.client_id, p.account_number, p.bill_id, p.amount.minor_units,
        std::string(p.amount.unit.code()), p.payment_method_id, p.pay_on, p.customer_name,
        p.customer_email);
    if (rows.empty()) {
        // The same request, written by a retry at the same moment: the row above is its.
        tx.commit();
        return schedule_payment(conn, p, time_zone, horizon_days);
    }
    tx.commit();
    out.payment = read_scheduled_payment(rows[0]);
    return out;
}

std::vector<scheduled_payment_record> scheduled_payments_of(pqxx::transaction_base& tx,
                                                            const std::string& account_number) {
    std::vector<scheduled_payment_record> out;
    for (const auto& row : tx.exec_params(std::string("SELECT ") + scheduled_payment_columns +
                                              " FROM scheduled_payments s WHERE account_number = $1"
                                              " ORDER BY pay_on, created_at, id",
                                          account_number)) {
        out.push_back(read_scheduled_payment(row));
    }
    return out;
}

cancel_written cancel_scheduled_payment(pqxx::connection& conn, const std::string& id,
                                        const std::string& account_number) {
    pqxx::work tx(conn);
    cancel_written out;
    auto rows = tx.exec_params(std::string("SELECT ") + scheduled_payment_columns +
                                   " FROM scheduled_payments s WHERE id = $1"
                                   " AND account_number = $2 FOR UPDATE",
                               id, account_number);
    if (rows.empty()) {
        return out;
    }
    auto p = read_scheduled_payment(rows[0]);
    if (p.status == model::schedule_status::scheduled) {
        rows = tx.exec_params(std::string("UPDATE scheduled_payments s SET status = 'canceled',"
                                          " updated_at = now() WHERE id = $1 RETURNING ") +
                                  scheduled_payment_columns,
                              id);
        p = read_scheduled_payment(rows[0]);
    }
    tx.commit();
    out.status = p.status == model::schedule_status::canceled ? cancel_write::canceled
                                                              : cancel_write::in_progress;
    out.payment = std::move(p);
    return out;
}

boost::asio::awaitable<result<schedule_written>> scheduled_payment_records::schedule(
    const scheduled_payment_record& p, const std::string& time_zone, int horizon_days) {
    co_return co_await db_.call(
        [&](pqxx::connection& conn) { return schedule_payment(conn, p, time_zone, horizon_days); });
}

boost::asio::awaitable<result<std::vector<scheduled_payment_record>>>
scheduled_payment_records::list(const std::string& account_number) {
    co_return co_await db_.call([&](pqxx::connection& conn) {
        pqxx::read_transaction tx(conn);
        return scheduled_payments_of(tx, account_number);
    });
}

boost::asio::awaitable<result<cancel_written>> scheduled_payment_records::cancel(
    const std::string& id, const std::string& account_number) {
    co_return co_await db_.call(
        [&](pqxx::connection& conn) { return cancel_scheduled_payment(conn, id, account_number); });
}

}  // namespace billpay::store
