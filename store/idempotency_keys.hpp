#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/connection>
#include <string>

#include "store/payment_records.hpp"

namespace billpay::store {

/// A request that wants to run under an idempotency key.
struct key_claim {
    std::string client_id;
    std::string key;
    std::string method;
    std::string path;
    std::string request_fingerprint;
    /// For the duplicate-bill guard: set both and `guard_duplicates` to refuse a second payment
    /// of one bill within `duplicate_window_minutes`.
    std::optional<std::string> account_number;
    std::optional<std::string> bill_id;
    bool guard_duplicates = false;
    std::int64_t duplicate_window_minutes = 0;
    /// An in-flight claim older than this, with no payment attached, belonged to a process that
    /// died before it reached the processor: it may be taken over.
    std::int64_t lease_ms = 60'000;
};

enum class claim_status {
    claimed,             // go ahead: this request owns the key
    replay,              // the key finished before: answer `response`, byte for byte
    in_flight,           // the first request with this key is still running: 409
    mismatch,            // the key was used for a different request: 422
    possible_duplicate,  // another payment of this bill is recent or running: 409
};

struct claim_result {
    claim_status status = claim_status::claimed;
    stored_response response;                     // for replay
    std::optional<std::string> existing_payment;  // for possible_duplicate, when known
};

/// Claims an idempotency key in one transaction (Stripe's semantics; the key is scoped to the
/// client). Safe across processes: the key's row lock and primary key decide who runs.
claim_result claim_key(pqxx::connection& conn, const key_claim& claim);

/// Stores the response of a request that finished without a payment row (e.g. the processor
/// refused to tokenize the card).
void finish_key(pqxx::connection& conn, const std::string& client_id, const std::string& key,
                const stored_response& response);

/// Gives a key back when its request stopped before anything happened outside billpayd (the
/// database failed): a retry with the same key then runs afresh.
void release_key(pqxx::connection& conn, const std::string& client_id, const std::string& key);

}  // namespace billpay::store
