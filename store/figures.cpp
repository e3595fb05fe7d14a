#include "store/figures.hpp"

#include <pqxx/pqxx>

#include "store/database.hpp"

namespace billpay::store {

figures read_figures(pqxx::connection& conn) {
    figures out;
    {
        pqxx::read_transaction tx(conn);
        // payments_to_recover and refunds_to_retry are indexes of pending rows only.
        auto p = tx.exec(
            "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8,"
            "       count(*) FILTER (WHERE needs_review)"
            "  FROM payments WHERE status = 'pending'")[0];
        out.payments_pending = p[0].as<std::int64_t>();
        out.oldest_pending_payment_age_seconds = p[1].as<double>();
        out.payments_requiring_review = p[2].as<std::int64_t>();
        auto r = tx.exec(
            "SELECT count(*), count(*) FILTER (WHERE needs_review)"
            "  FROM refunds WHERE status = 'pending'")[0];
        out.refunds_pending = r[0].as<std::int64_t>();
        out.refunds_requiring_review = r[1].as<std::int64_t>();
    }
    out.outbox = outbox_statistics(conn);
    return out;
}

boost::asio::awaitable<result<figures>> operating_figures::read() {
    co_return co_await db_.call([](pqxx::connection& conn) { return read_figures(conn); });
}

}  // namespace billpay::store
