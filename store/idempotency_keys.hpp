#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <pqxx/connection>
#include <pqxx/transaction_base>
#include <string>

#include "model/key_lease.hpp"
#include "store/errors.hpp"
#include "store/payment_records.hpp"

namespace billpay::store {

using model::key_lease;

class database;

/// A request that wants to run under an idempotency key (Stripe's semantics; keys are scoped to
/// the API client).
struct key_claim {
    std::string client_id;
    std::string key;
    std::string method;
    std::string path;
    std::string request_fingerprint;
    /// How long the key stays this request's without news from it. A key whose lease ran out
    /// and that has no payment attached belonged to a request that died before it reached the
    /// processor: a retry may take it over (and the first request is fenced out).
    std::chrono::milliseconds lease{60'000};
};

enum class claim_status {
    claimed,    // go ahead: this request owns the key (`lease`)
    replay,     // the key finished before: answer `response`, byte for byte
    in_flight,  // the first request with this key is still running: 409
    mismatch,   // the key was used for a different request: 422
};

struct claim_result {
    claim_status status = claim_status::claimed;
    key_lease lease;           // when claimed
    stored_response response;  // when replay
};

/// The idempotency keys of the API's POSTs (table idempotency_keys). Safe across processes: a
/// key's row lock and primary key decide who runs, and its lease id fences out a request that
/// lost it.
class idempotency_keys {
  public:
    explicit idempotency_keys(database& db) : db_(db) {}

    boost::asio::awaitable<result<claim_result>> claim(const key_claim& claim);

    /// Stores the answer of a request that ended without a payment (a saved card, a refund, a
    /// card the processor refused): error::lease_lost when the key is no longer this lease's.
    boost::asio::awaitable<result<void>> record(const key_lease& lease,
                                                const stored_response& answer);

    /// Gives the key back when nothing happened outside billpayd, so that a retry with the same
    /// key runs afresh: error::lease_lost when it is no longer this lease's.
    boost::asio::awaitable<result<void>> release(const key_lease& lease);

  private:
    database& db_;
};

// The same inside the store (and its tests), on a connection of the caller's.
claim_result claim_key(pqxx::connection& conn, const key_claim& claim);
bool record_key_answer(pqxx::connection& conn, const key_lease& lease,
                       const stored_response& answer);
bool release_key(pqxx::connection& conn, const key_lease& lease);

}  // namespace billpay::store
