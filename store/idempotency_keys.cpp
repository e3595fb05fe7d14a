#include "store/idempotency_keys.hpp"

#include <pqxx/pqxx>

#include "model/ids.hpp"
#include "store/database.hpp"

namespace billpay::store {

claim_result claim_key(pqxx::connection& conn, const key_claim& claim) {
    pqxx::work tx(conn);
    const std::int64_t lease_ms = claim.lease.count();
    auto existing = tx.exec_params(
        "SELECT request_fingerprint, state, response_status, response_body, payment_id,"
        "       coalesce(leased_until, locked_at + interval '60 seconds') < now()"
        "  FROM idempotency_keys WHERE client_id = $1 AND key = $2 FOR UPDATE",
        claim.client_id, claim.key);
    claim_result out;
    out.lease = key_lease{claim.client_id, claim.key, model::new_id("lease")};
    if (!existing.empty()) {
        const auto& row = existing[0];
        if (row[0].as<std::string>() != claim.request_fingerprint) {
            out.status = claim_status::mismatch;
            return out;
        }
        if (row[1].as<std::string>() == "finished") {
            out.status = claim_status::replay;
            out.response = {row[2].as<int>(), row[3].as<std::string>()};
            return out;
        }
        bool lease_expired = row[5].as<bool>();
        if (lease_expired && row[4].is_null()) {
            // Its request died before it reached the processor (it attached no payment): this
            // one takes over, and the old lease id can write nothing any more.
            tx.exec_params(
                "UPDATE idempotency_keys SET lease_id = $3, locked_at = now(),"
                "  leased_until = now() + $4 * interval '1 millisecond'"
                " WHERE client_id = $1 AND key = $2",
                claim.client_id, claim.key, out.lease.lease_id, lease_ms);
            tx.commit();
            out.status = claim_status::claimed;
            return out;
        }
        out.status = claim_status::in_flight;
        return out;
    }
    auto inserted = tx.exec_params(
        "INSERT INTO idempotency_keys (client_id, key, request_method, request_path,"
        "  request_fingerprint, state, lease_id, leased_until)"
        " VALUES ($1, $2, $3, $4, $5, 'in_flight', $6, now() + $7 * interval '1 millisecond')"
        " ON CONFLICT (client_id, key) DO NOTHING",
        claim.client_id, claim.key, claim.method, claim.path, claim.request_fingerprint,
        out.lease.lease_id, lease_ms);
    tx.commit();
    // Another request took the key between our look and our insert: it runs, we wait.
    out.status = inserted.affected_rows() == 0 ? claim_status::in_flight : claim_status::claimed;
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
        "DELETE FROM idempotency_keys WHERE client_id = $1 AND key = $2 AND lease_id = $3"
        "   AND state = 'in_flight' AND payment_id IS NULL",
        lease.client_id, lease.key, lease.lease_id);
    tx.commit();
    return r.affected_rows() == 1;
}

bool attach_payment(pqxx::transaction_base& tx, const key_lease& lease,
                    const std::string& payment_id, std::chrono::milliseconds lease_time) {
    auto r = tx.exec_params(
        "UPDATE idempotency_keys SET payment_id = $4, locked_at = now(),"
        "  leased_until = now() + $5 * interval '1 millisecond'"
        " WHERE client_id = $1 AND key = $2 AND lease_id = $3 AND state = 'in_flight'"
        "   AND payment_id IS NULL",
        lease.client_id, lease.key, lease.lease_id, payment_id, lease_time.count());
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
