#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "config/settings.hpp"
#include "gateway_adapters/gateway.hpp"
#include "model/actor.hpp"
#include "store/refunds.hpp"

namespace billpay::finance {

struct refund_order {
    std::string payment_id;
    std::optional<std::int64_t> amount;  // minor units; nullopt: all that remains
    std::string reason;
    std::string refund_id;  // ref_…; the processor's idempotency key for this refund
    /// The request's hold on its Idempotency-Key (the API's): the refund is tied to it when it
    /// is reserved, and it replays the refund's answer.
    std::optional<model::key_lease> key;
    std::string request_id;  // the API request's, for the answer its key replays
};

/// Renders the answer a refund's Idempotency-Key replays (the API's: status and body), written
/// with the refund's outcome by whichever process finishes it; nullopt for a refund that
/// refunded nothing because nothing reached the processor (its key is given back instead). The
/// API implements it, as it does payments::answer_renderer.
class refund_answer_renderer {
  public:
    virtual ~refund_answer_renderer() = default;
    [[nodiscard]] virtual std::optional<model::stored_response> render(
        const model::refund_record& refund, const std::string& request_id) const = 0;
};

enum class refund_status {
    succeeded,              // refunded (or voided); the refund_receipt is queued
    pending,                // the processor's answer was lost: it is asked again later
    declined,               // the processor refused it; `decline_code` says why
    processor_unavailable,  // nothing reached the processor (or it failed): nothing refunded
    no_payment,
    not_refundable,        // the payment did not take money, or is refunded in full
    too_much,              // more than what remains (refunds succeeded or pending included)
    database_unavailable,  // nothing was held (the key is the caller's to give back)
    not_held,              // the hold failed and wrote nothing; its key is given back already
    key_lost,              // the Idempotency-Key is no longer this request's: nothing done
    // The hold's answer was lost and what it did could not be learned: a pending refund may
    // stand (the retry worker then sends it). The key is left as it is: a retry with it finds
    // the refund. Never "nothing was refunded".
    outcome_unknown,
};

struct refund_answer {
    refund_status status = refund_status::database_unavailable;
    std::optional<model::refund_record> refund;
    std::optional<model::payment_record> payment;
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
    /// `gateway` is the config section: its timeout bounds every processor call, and its charge
    /// window how long a refund's request holds it before a retry may ask about it.
    /// `answers`: the API's (billpayd); billpayctl's refunds have no key and pass none.
    refunds(store::refund_store& store, gateway::gateway& processor,
            const config::gateway_settings& gateway,
            const refund_answer_renderer* answers = nullptr);

    boost::asio::awaitable<refund_answer> create(const refund_order& order,
                                                 const model::actor& who);

    /// Asks the processor again, under the same key, about refunds pending longer than
    /// `pending_for` (never before their request's window has closed); concludes "not refunded"
    /// only from the processor's own record, and flags those still unknown after
    /// `max_attempts` for review (and at once one made through another processor than the
    /// configured one: it is never sent elsewhere). Returns how many it finished.
    boost::asio::awaitable<int> retry_pending(std::chrono::milliseconds pending_for,
                                              std::chrono::milliseconds retry_after,
                                              int max_attempts);

  private:
    /// Sends a held refund to the processor and records what it says. `first`: an outright
    /// failure frees the held amount (nothing reached the processor); on a retry it does not.
    boost::asio::awaitable<refund_answer> send(const model::refund_record& refund,
                                               const model::payment_record& payment,
                                               const model::actor& who, bool first,
                                               const std::string& request_id = "");

    /// After a hold whose answer was lost: what it did, and the answer that follows.
    boost::asio::awaitable<refund_answer> settle_lost_hold(const store::refund_hold& hold,
                                                           store::error error,
                                                           const model::actor& who,
                                                           const std::string& request_id);

    store::refund_store& store_;
    gateway::gateway& processor_;
    const config::gateway_settings& gateway_;
    const refund_answer_renderer* answers_;
};

/// A refund id from an operator's idempotency key (billpayctl refund --idempotency-key): the
/// same key names the same refund, so running the command again never refunds twice.
std::string refund_id_for_key(std::string_view key);

}  // namespace billpay::finance
