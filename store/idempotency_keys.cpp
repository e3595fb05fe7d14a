#include "store/idempotency_keys.hpp"

#include <pqxx/pqxx>

#include "model/ids.hpp"
#include "store/database.hpp"
#include "store/statements.hpp"

namespace billpay::store {

claim_result claim_key(pqxx::connection& conn, const key_claim& claim) {
    claim_result out;
    out.lease = key_lease{claim.client_id, claim.key, model::new_id("lease")};
    pqxx::nontransaction tx(conn);  // one statement: its own transaction, one round trip
    auto row =
        tx.exec_prepared1(statements::prepared(conn, statements::claim_key), claim.client_id,
                          claim.key, claim.method, claim.path, claim.request_fingerprint,
                          static_cast<std::int64_t>(claim.lease.count()), out.lease.lease_id);
    const auto status = row[0].as<std::string>();
    if (status == "claimed") {
        out.status = claim_status::claimed;
    } else if (status == "replay") {
        out.status = claim_status::replay;
        out.response = {row[1].as<int>(), row[2].as<std::string>()};
    } else if (status == "mismatch") {
        out.status = claim_status::mismatch;
    } else {
        out.status = claim_status::in_flight;
    }
    return out;
}

bool record_key_answer(pqxx::connection& conn, const key_lease& lease,
                       const stored_response& answer) {
    pqxx::work tx(conn);
    auto r = tx.exec_params(
        "UPDATE idempotency_keys SET state = 'finished', response_status = $4,"
        "  response_body = $5, finished_at = now(), leased_until = NULL"
        " WHERE client_id = $1 AND key = $2 AND lease_id = $3 AND state = 'in_flight'",
        lease.client_id, lease.key, lease.lease_id, answer.status, answer.body);
    tx.commit();
    return r.affected_rows() == 1;
}

bool release_key(pqxx::connection& conn, const key_lease& lease) {
    pqxx::work tx(conn);
    auto r = tx.exec_params(
        "DELETE FROM idempotency_keys k WHERE client_id = $1 AND key = $2 AND lease_id = $3"
        "   AND state = 'in_flight' AND payment_id IS NULL"
        // A key that holds a refund goes back only when that refund refunded nothing.
        "   AND (refund_id IS NULL OR EXISTS (SELECT 1 FROM refunds r"
        "                                      WHERE r.id = k.refund_id AND r.status = 'failed'))",
        lease.client_id, lease.key, lease.lease_id);
    tx.commit();
    return r.affected_rows() == 1;
}

boost::asio::awaitable<result<claim_result>> idempotency_keys::claim(const key_claim& claim) {
    co_return co_await db_.call(
        [&claim](pqxx::connection& conn) { return claim_key(conn, claim); });
}

boost::asio::awaitable<result<void>> idempotency_keys::record(const key_lease& lease,
                                                              const stored_response& answer) {
    co_return co_await db_.call([&](pqxx::connection& conn) -> result<void> {
        if (!record_key_answer(conn, lease, answer)) {
            return error::lease_lost;
        }
        return {};
    });
}

boost::asio::awaitable<result<void>> idempotency_keys::release(const key_lease& lease) {
    co_return co_await db_.call([&lease](pqxx::connection& conn) -> result<void> {
        if (!release_key(conn, lease)) {
            return error::lease_lost;
        }
        return {};
    });
}

}  // namespace billpay::store
