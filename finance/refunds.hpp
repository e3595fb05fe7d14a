#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "gateway_adapters/gateway.hpp"
#include "store/database.hpp"
#include "store/refunds.hpp"

namespace billpay::finance {

/// Who asks for a refund, and from where: for the audit trail.
struct actor {
    std::string id;      // the API client's id, or "billpayctl:<user>"
    std::string source;  // the client's address, or "host:<name>"
};

struct refund_order {
    std::string payment_id;
    std::optional<std::int64_t> amount;  // minor units; nullopt: all that remains
    std::string reason;
    std::string refund_id;  // ref_…; the processor's idempotency key for this refund
};

enum class refund_status {
    succeeded,              // refunded (or voided); the refund_receipt is queued
    pending,                // the processor's answer was lost: it is asked again later
    declined,               // the processor refused it; `decline_code` says why
    processor_unavailable,  // nothing reached the processor (or it failed): nothing refunded
    no_payment,
    not_refundable,  // the payment did not take money, or is refunded in full
    too_much,        // more than what remains (refunds succeeded or pending included)
    database_unavailable,
};

struct refund_answer {
    refund_status status = refund_status::database_unavailable;
    std::optional<store::refund_record> refund;
    std::optional<store::payment_record> payment;
    std::string decline_code;
    std::string message;
    std::int64_t remaining = 0;  // with too_much: what could still be refunded
};

/// Refunds and voids (docs/finance.md), for the finance API and billpayctl alike. A refund first
/// holds its amount against the payment (row-locked, so two at once never exceed it), then asks
/// the processor under the refund's id as idempotency key, then records the outcome, the
/// payment's new status, the refund_receipt and the audit rows. An unknown outcome leaves the
/// refund pending; retry_pending asks again with the same key (adapters refund once per key).
class refunds {
  public:
    refunds(store::database& database, gateway::gateway& processor,
            std::chrono::milliseconds processor_timeout);

    boost::asio::awaitable<refund_answer> create(const refund_order& order, const actor& who);

    /// Asks the processor again about refunds pending longer than `pending_for`; flags those
    /// still unknown after `max_attempts` for review. Returns how many it finished.
    boost::asio::awaitable<int> retry_pending(std::chrono::milliseconds pending_for,
                                              std::chrono::milliseconds retry_after,
                                              int max_attempts);

  private:
    /// Sends a held refund to the processor and records what it says. `first`: an outright
    /// failure frees the held amount (nothing reached the processor); on a retry it does not.
    boost::asio::awaitable<refund_answer> send(const store::refund_record& refund,
                                               const store::payment_record& payment,
                                               const actor& who, bool first);

    store::database& database_;
    gateway::gateway& processor_;
    std::chrono::milliseconds timeout_;
};

}  // namespace billpay::finance
