#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <pqxx/connection>
#include <pqxx/transaction_base>
#include <string>
#include <vector>

#include "model/money.hpp"
#include "model/outbox_entry.hpp"
#include "model/payment.hpp"
#include "model/status.hpp"
#include "model/stored_response.hpp"

namespace billpay::store {

// The nouns are model/'s; the store reads and writes them under their short names.
using model::card_record;
using model::outbox_entry;
using model::payment_outcome;
using model::payment_record;
using model::stored_response;
using model::with_outcome;

/// Thrown when a status change breaks the payment state machine (model/status.hpp).
class illegal_transition : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// Gives the `pending` payment its outcome in one statement (one round trip, one commit): its
/// final status (or, for an outcome still pending, nothing), the `answer` the idempotency key
/// that created it replays (if that key is still in flight) and its outbox `message`. Returns
/// the payment as it now stands: with_outcome(pending, outcome) when this wrote it, read back
/// when another process finished it first (then nothing changes). Throws illegal_transition for
/// a move the state machine forbids, store::failure(not_found) for no such payment.
payment_record finish_payment(pqxx::connection& conn, const payment_record& pending,
                              const payment_outcome& outcome, const stored_response& answer,
                              const std::optional<outbox_entry>& message);

std::optional<payment_record> find_payment(pqxx::connection& conn, const std::string& id);

/// The same inside the caller's transaction; `for_update` locks the row until it ends.
std::optional<payment_record> find_payment_in(pqxx::transaction_base& tx, const std::string& id,
                                              bool for_update);

/// Filters for listing payments, newest first, cursor-paged.
struct payment_filter {
    std::optional<std::string> account_number;
    std::optional<model::payment_status> status;
    std::optional<bool> needs_review;
    std::optional<std::string> created_from;    // RFC 3339 or date; inclusive
    std::optional<std::string> created_to;      // exclusive
    std::optional<std::string> starting_after;  // a payment id: list what comes after it
    int limit = 10;
};

struct payment_page {
    std::vector<payment_record> payments;
    bool has_more = false;
};

/// Throws store::failure(not_found) when `starting_after` names no payment visible under the
/// filter; a time PostgreSQL cannot read is error::invalid_argument.
payment_page list_payments(pqxx::connection& conn, const payment_filter& filter);

/// Claims up to `batch` pending payments created before `pending_for_ms` ago whose next recovery
/// time has come and whose request is not running any more (no idempotency key in flight within
/// its lease), pushing their next try `retry_after_ms` away and counting the attempt. Uses
/// FOR UPDATE SKIP LOCKED, so several billpayd processes share the work without overlap.
std::vector<payment_record> claim_payments_to_recover(pqxx::connection& conn,
                                                      std::int64_t pending_for_ms, int batch,
                                                      std::int64_t retry_after_ms);

/// Flags a payment whose outcome could not be learned for finance to resolve by hand.
void mark_needs_review(pqxx::connection& conn, const std::string& payment_id);

/// Puts a pending payment's next recovery `after_ms` from now (the processor said when its
/// record can settle it).
void defer_recovery(pqxx::connection& conn, const std::string& payment_id, std::int64_t after_ms);

}  // namespace billpay::store
