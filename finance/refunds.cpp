#include "finance/refunds.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "correspondence/messages.hpp"
#include "logging/log.hpp"
#include "metrics/metrics.hpp"
#include "model/ids.hpp"

namespace billpay::finance {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

store::audit_entry audit_of(const model::actor& who, std::string action,
                            const std::string& payment_id, const std::string& refund_id,
                            const std::string& reason, json::object details) {
    return store::audit_entry{who.id,
                              who.source,
                              std::move(action),
                              payment_id + "," + refund_id,
                              reason,
                              json::serialize(details)};
}

}  // namespace

refunds::refunds(store::refund_store& store, gateway::gateway& processor,
                 const config::gateway_settings& gateway, const refund_answer_renderer* answers)
    : store_(store), processor_(processor), gateway_(gateway), answers_(answers) {}

asio::awaitable<refund_answer> refunds::create(const refund_order& order, const model::actor& who) {
    refund_answer answer;
    json::object details{
        {"amount", order.amount ? json::value(*order.amount) : json::value("all that remains")}};
    const auto audit =
        audit_of(who, "refund.requested", order.payment_id, order.refund_id, order.reason, details);
    const store::refund_hold hold{order.refund_id, order.payment_id,
                                  order.amount,    order.reason,
                                  order.key,       config::charge_window(gateway_)};
    auto held = co_await store_.reserve(hold, audit);
    if (!held && held.error() != store::error::busy) {
        // Its commit may stand (the connection broke after it, or the synchronous standby did
        // not confirm it): learn what it did before saying anything.
        co_return co_await settle_lost_hold(hold, held.error(), who, order.request_id);
    }
    if (!held) {  // it waited in the store's queue and never ran
        logging::error("could not hold a refund: nothing was refunded",
                       {{"payment_id", order.payment_id}, {"error", "busy"}});
        answer.status = refund_status::database_unavailable;
        co_return answer;
    }
    const store::reserve_result& reserved = *held;
    answer.payment = reserved.payment;
    answer.remaining = reserved.remaining;
    switch (reserved.status) {
        case store::reserve_status::no_payment:
            answer.status = refund_status::no_payment;
            co_return answer;
        case store::reserve_status::not_refundable:
            answer.status = refund_status::not_refundable;
            co_return answer;
        case store::reserve_status::too_much:
            answer.status = refund_status::too_much;
            co_return answer;
        case store::reserve_status::lease_lost:
            logging::warn("the request lost its idempotency key before refunding: nothing done",
                          {{"payment_id", order.payment_id}, {"refund_id", order.refund_id}});
            answer.status = refund_status::key_lost;
            co_return answer;
        case store::reserve_status::exists:
            // Asked before under this id (billpayctl run again at once): that refund, as it
            // stands; whoever reserved it sends it.
            answer.refund = reserved.refund;
            answer.status = !reserved.refund ? refund_status::outcome_unknown
                            : reserved.refund->status == model::refund_status::pending
                                ? refund_status::pending
                            : reserved.refund->status == model::refund_status::succeeded
                                ? refund_status::succeeded
                                : refund_status::declined;
            if (reserved.refund) {
                answer.decline_code = reserved.refund->failure_code.value_or("");
                answer.message = reserved.refund->failure_message.value_or("");
            }
            co_return answer;
        case store::reserve_status::reserved:
            break;
    }
    co_return co_await send(*reserved.refund, *reserved.payment, who, true, order.request_id);
}

asio::awaitable<refund_answer> refunds::settle_lost_hold(const store::refund_hold& hold,
                                                         store::error error,
                                                         const model::actor& who,
                                                         const std::string& request_id) {
    refund_answer answer;
    const logging::field failed{"error", store::to_string(error)};
    if (!hold.key) {
        // No key to ask: billpayctl says the outcome is unknown, and that running it again
        // with the same --idempotency-key finds the refund if it was held.
        logging::error("could not learn whether a refund was held: its outcome is unknown",
                       {{"payment_id", hold.payment_id}, {"refund_id", hold.refund_id}, failed});
        answer.status = refund_status::outcome_unknown;
        co_return answer;
    }
    auto settled = co_await store_.settle_lost_reserve(hold);
    if (!settled) {
        logging::error(
            "could not learn whether a refund was held: its outcome is unknown (the retry "
            "worker sends it if it was)",
            {{"payment_id", hold.payment_id}, {"refund_id", hold.refund_id}, failed});
        answer.status = refund_status::outcome_unknown;
        co_return answer;
    }
    logging::warn("holding a refund failed; learned afterwards what it did",
                  {{"payment_id", hold.payment_id},
                   {"refund_id", hold.refund_id},
                   failed,
                   {"held", *settled == store::lost_reserve::reserved}});
    switch (*settled) {
        case store::lost_reserve::not_reserved:
            answer.status = refund_status::not_held;
            co_return answer;
        case store::lost_reserve::lease_lost:
            answer.status = refund_status::key_lost;
            co_return answer;
        case store::lost_reserve::reserved:
            break;
    }
    // Held, and durable now: send it, as if the hold had answered.
    auto refund = co_await store_.find(hold.refund_id);
    std::optional<model::payment_record> payment;
    if (refund && *refund) {
        auto found = co_await store_.payment_of(**refund);
        if (found && *found) {
            payment = **found;
        }
    }
    if (!payment) {
        // It stands, pending: the retry worker sends it once its request's window is over.
        answer.status = refund_status::outcome_unknown;
        co_return answer;
    }
    co_return co_await send(**refund, *payment, who, true, request_id);
}

asio::awaitable<refund_answer> refunds::send(const model::refund_record& refund,
                                             const model::payment_record& payment,
                                             const model::actor& who, bool first,
                                             const std::string& request_id) {
    refund_answer answer;
    answer.refund = refund;
    answer.payment = payment;
    gateway::refund_result result;
    if (payment.processor != processor_.name() || !payment.processor_reference) {
        if (!first) {
            // Asked before through the processor that took the money: only it can say what it
            // did. Finance resolves it; it is never sent to another processor.
            auto flagged = co_await store_.flag_for_review(refund.id);
            logging::error(
                "pending refund of a payment made through a processor billpayd is not "
                "configured for: flagged for finance to resolve",
                {{"refund_id", refund.id},
                 {"processor", payment.processor},
                 {"configured_processor", processor_.name()},
                 {"flagged", flagged.has_value()}});
            answer.status = refund_status::pending;
            co_return answer;
        }
        // Only the processor that took the money can give it back.
        result = {gateway::outcome::declined, "", "processor_mismatch",
                  "the payment was made through " + payment.processor + ", not " +
                      std::string(processor_.name())};
    } else {
        const gateway::refund_request request{
            *payment.processor_reference, refund.amount, refund.id,        payment.processor_token,
            payment.card.last4,           !first,        refund.created_at};
        result = co_await processor_.refund(request,
                                            std::chrono::steady_clock::now() + gateway_.timeout);
    }
    logging::info("refund sent to the processor", {{"refund_id", refund.id},
                                                   {"payment_id", payment.id},
                                                   {"outcome", gateway::to_string(result.result)},
                                                   {"decline_code", result.decline_code},
                                                   {"processor_message", result.message}});

    std::optional<store::refund_outcome> outcome;
    switch (result.result) {
        case gateway::outcome::approved:
            outcome = store::refund_outcome{model::refund_status::succeeded,
                                            result.voided ? "void" : "refund",
                                            result.processor_reference, std::nullopt, std::nullopt};
            break;
        case gateway::outcome::declined:
            outcome = store::refund_outcome{model::refund_status::failed, std::nullopt,
                                            std::nullopt, result.decline_code, result.message};
            break;
        case gateway::outcome::failed:
            if (first) {  // nothing reached the processor: the held amount is free again
                outcome =
                    store::refund_outcome{model::refund_status::failed, std::nullopt, std::nullopt,
                                          "processor_unavailable", result.message};
            }
            break;
        case gateway::outcome::unknown:
            break;
    }
    if (!outcome) {
        answer.status = refund_status::pending;
        co_return answer;
    }
    json::object details{{"status", model::to_string(outcome->status)},
                         {"amount", refund.amount.minor_units},
                         {"kind", outcome->kind ? json::value(*outcome->kind) : nullptr},
                         {"processor_reference", result.processor_reference},
                         {"failure_code", result.decline_code}};
    const auto audit = audit_of(who, "refund." + std::string(model::to_string(outcome->status)),
                                payment.id, refund.id, refund.reason, details);
    const store::refund_message_renderer message = [](const model::payment_record& p,
                                                      const model::refund_record& r) {
        return std::optional<model::outbox_entry>(correspondence::render_refund_message(p, r));
    };
    const store::refund_key_answer key_answer = [&](const model::refund_record& r) {
        return answers_ ? answers_->render(r, request_id) : std::nullopt;
    };
    auto finished = co_await store_.finish(refund.id, *outcome, message, key_answer, audit);
    if (!finished) {
        // The processor did it; recording failed. The refund stays pending and the retry, under
        // the same key, learns the same answer again and records it.
        logging::error("could not record a refund's outcome",
                       {{"refund_id", refund.id}, {"error", store::to_string(finished.error())}});
        answer.status = refund_status::pending;
        co_return answer;
    }
    answer.refund = finished->first;
    answer.payment = finished->second;
    metrics::process().refunds.add({std::string(model::to_string(answer.refund->status))});
    if (answer.refund->status == model::refund_status::succeeded) {
        answer.status = refund_status::succeeded;
    } else if (answer.refund->status == model::refund_status::pending) {
        answer.status = refund_status::pending;
    } else if (answer.refund->failure_code == "processor_unavailable") {
        answer.status = refund_status::processor_unavailable;
    } else {
        answer.status = refund_status::declined;
        answer.decline_code = answer.refund->failure_code.value_or("");
        answer.message = answer.refund->failure_message.value_or("");
    }
    co_return answer;
}

asio::awaitable<int> refunds::retry_pending(std::chrono::milliseconds pending_for,
                                            std::chrono::milliseconds retry_after,
                                            int max_attempts) {
    // Never before the refund's own request has had its window to finish.
    const auto after = std::max(pending_for, config::charge_window(gateway_));
    auto due = co_await store_.claim_for_retry(after, 50, retry_after);
    if (!due) {
        logging::warn("could not claim pending refunds",
                      {{"error", store::to_string(due.error())}});
        co_return 0;
    }
    int finished = 0;
    const model::actor worker{"billpayd:recovery", "billpayd"};
    for (const auto& refund : *due) {
        if (refund.attempts > max_attempts) {
            if (co_await store_.flag_for_review(refund.id)) {
                logging::error("a refund's outcome is still unknown: flagged for review",
                               {{"refund_id", refund.id}, {"payment_id", refund.payment_id}});
            }
            continue;  // flagged on a later pass if that failed
        }
        auto payment = co_await store_.payment_of(refund);
        if (!payment || !*payment) {
            continue;
        }
        auto answer = co_await send(refund, **payment, worker, false);
        if (answer.status != refund_status::pending) {
            ++finished;
        }
    }
    co_return finished;
}

std::string refund_id_for_key(std::string_view key) {
    return model::id_for_key("ref", "billpayctl refund:" + std::string(key));
}

}  // namespace billpay::finance
