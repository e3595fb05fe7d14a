#include "store/idempotency_keys.hpp"

#include <pqxx/pqxx>

namespace billpay::store {

claim_result claim_key(pqxx::connection& conn, const key_claim& claim) {
    pqxx::work tx(conn);
    auto existing = tx.exec_params(
        "SELECT request_fingerprint, state, response_status, response_body, payment_id,"
        "       locked_at < now() - make_interval(secs => $3::float8 / 1000)"
        "  FROM idempotency_keys WHERE client_id = $1 AND key = $2 FOR UPDATE",
        claim.client_id, claim.key, claim.lease_ms);
    if (!existing.empty()) {
        const auto& row = existing[0];
        if (row[0].as<std::string>() != claim.request_fingerprint) {
            return {claim_status::mismatch, {}, {}};
        }
        if (row[1].as<std::string>() == "finished") {
            return {claim_status::replay, {row[2].as<int>(), row[3].as<std::string>()}, {}};
        }
        bool lease_expired = row[5].as<bool>();
        if (lease_expired && row[4].is_null()) {
            tx.exec_params(
                "UPDATE idempotency_keys SET locked_at = now() WHERE client_id = $1 AND key = $2",
                claim.client_id, claim.key);
            tx.commit();
            return {claim_status::claimed, {}, {}};
        }
        return {claim_status::in_flight, {}, {}};
    }

    if (claim.guard_duplicates && claim.account_number && claim.bill_id) {
        // Serialise claims for one bill, then look for a recent payment or a running request.
        tx.exec_params("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))",
                       *claim.account_number + "\x1f" + *claim.bill_id);
        auto paid = tx.exec_params(
            "SELECT id FROM payments WHERE account_number = $1 AND bill_id = $2"
            "   AND status IN ('pending', 'succeeded', 'partially_refunded')"
            "   AND created_at > now() - make_interval(mins => $3::int)"
            " ORDER BY created_at DESC LIMIT 1",
            *claim.account_number, *claim.bill_id, claim.duplicate_window_minutes);
        if (!paid.empty()) {
            return {claim_status::possible_duplicate, {}, paid[0][0].as<std::string>()};
        }
        auto running = tx.exec_params(
            "SELECT payment_id FROM idempotency_keys WHERE account_number = $1 AND bill_id = $2"
            "   AND state = 'in_flight' LIMIT 1",
            *claim.account_number, *claim.bill_id);
        if (!running.empty()) {
            return {claim_status::possible_duplicate,
                    {},
                    running[0][0].is_null()
                        ? std::nullopt
                        : std::optional<std::string>(running[0][0].as<std::string>())};
        }
    }

    auto inserted = tx.exec_params(
        "INSERT INTO idempotency_keys (client_id, key, request_method, request_path,"
        "  request_fingerprint, account_number, bill_id, state)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, 'in_flight')"
        " ON CONFLICT (client_id, key) DO NOTHING",
        claim.client_id, claim.key, claim.method, claim.path, claim.request_fingerprint,
        claim.account_number, claim.bill_id);
    tx.commit();
    if (inserted.affected_rows() == 0) {
        // Another request took the key between our look and our insert: it runs, we wait.
        return {claim_status::in_flight, {}, {}};
    }
    return {claim_status::claimed, {}, {}};
}

void finish_key(pqxx::connection& conn, const std::string& client_id, const std::string& key,
                const stored_response& response) {
    pqxx::work tx(conn);
    tx.exec_params(
        "UPDATE idempotency_keys SET state = 'finished', response_status = $3,"
        "  response_body = $4, finished_at = now()"
        " WHERE client_id = $1 AND key = $2 AND state = 'in_flight'",
        client_id, key, response.status, response.body);
    tx.commit();
}

void release_key(pqxx::connection& conn, const std::string& client_id, const std::string& key) {
    pqxx::work tx(conn);
    tx.exec_params(
        "DELETE FROM idempotency_keys WHERE client_id = $1 AND key = $2 AND state = 'in_flight'"
        "   AND payment_id IS NULL",
        client_id, key);
    tx.commit();
}

}  // namespace billpay::store
