#include "finance/refunds.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "correspondence/messages.hpp"
#include "logging/log.hpp"

namespace billpay::finance {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

store::audit_entry audit_of(const actor& who, std::string action, const std::string& payment_id,
                            const std::string& refund_id, const std::string& reason,
                            json::object details) {
    return store::audit_entry{who.id,
                              who.source,
                              std::move(action),
                              payment_id + "," + refund_id,
                              reason,
                              json::serialize(details)};
}

}  // namespace

refunds::refunds(store::database& database, gateway::gateway& processor,
                 std::chrono::milliseconds processor_timeout)
    : database_(database), processor_(processor), timeout_(processor_timeout) {}

asio::awaitable<refund_answer> refunds::create(const refund_order& order, const actor& who) {
    refund_answer answer;
    json::object details{
        {"amount", order.amount ? json::value(*order.amount) : json::value("all that remains")}};
    const auto audit =
        audit_of(who, "refund.requested", order.payment_id, order.refund_id, order.reason, details);
    store::reserve_result reserved;
    try {
        reserved = co_await database_.run([&](pqxx::connection& conn) {
            return store::reserve_refund(conn, order.refund_id, order.payment_id, order.amount,
                                         order.reason, audit);
        });
    } catch (const std::exception& e) {
        logging::error("could not hold a refund",
                       {{"payment_id", order.payment_id}, {"error", e.what()}});
        answer.status = refund_status::database_unavailable;
        co_return answer;
    }
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
        case store::reserve_status::reserved:
            break;
    }
    co_return co_await send(*reserved.refund, *reserved.payment, who, true);
}

asio::awaitable<refund_answer> refunds::send(const store::refund_record& refund,
                                             const store::payment_record& payment, const actor& who,
                                             bool first) {
    refund_answer answer;
    answer.refund = refund;
    answer.payment = payment;
    gateway::refund_result result;
    if (payment.processor != processor_.name() || !payment.processor_reference) {
        // Only the processor that took the money can give it back.
        result = {gateway::outcome::declined, "", "processor_mismatch",
                  "the payment was made through " + payment.processor + ", not " +
                      std::string(processor_.name())};
    } else {
        const gateway::refund_request request{*payment.processor_reference, refund.amount,
                                              refund.id, payment.processor_token,
                                              payment.card.last4};
        result = co_await processor_.refund(request, std::chrono::steady_clock::now() + timeout_);
    }
    logging::info("refund sent to the processor", {{"refund_id", refund.id},
                                                   {"payment_id", payment.id},
                                                   {"outcome", gateway::to_string(result.result)},
                                                   {"decline_code", result.decline_code},
                                                   {"message", result.message}});

    std::optional<store::refund_outcome> outcome;
    switch (result.result) {
        case gateway::outcome::approved:
            outcome = store::refund_outcome{"succeeded", result.voided ? "void" : "refund",
                                            result.processor_reference, std::nullopt, std::nullopt};
            break;
        case gateway::outcome::declined:
            outcome = store::refund_outcome{"failed", std::nullopt, std::nullopt,
                                            result.decline_code, result.message};
            break;
        case gateway::outcome::failed:
            if (first) {  // nothing reached the processor: the held amount is free again
                outcome = store::refund_outcome{"failed", std::nullopt, std::nullopt,
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
    json::object details{{"status", outcome->status},
                         {"amount", refund.amount.minor_units},
                         {"kind", outcome->kind ? json::value(*outcome->kind) : nullptr},
                         {"processor_reference", result.processor_reference},
                         {"failure_code", result.decline_code}};
    const auto audit =
        audit_of(who, "refund." + outcome->status, payment.id, refund.id, refund.reason, details);
    const store::refund_message_renderer message = [](const store::payment_record& p,
                                                      const store::refund_record& r) {
        return std::optional<store::outbox_entry>(correspondence::render_refund_message(p, r));
    };
    try {
        auto [r, p] = co_await database_.run([&](pqxx::connection& conn) {
            return store::finish_refund(conn, refund.id, *outcome, message, audit);
        });
        answer.refund = r;
        answer.payment = p;
    } catch (const std::exception& e) {
        // The processor did it; recording failed. The refund stays pending and the retry, under
        // the same key, learns the same answer again and records it.
        logging::error("could not record a refund's outcome",
                       {{"refund_id", refund.id}, {"error", e.what()}});
        answer.status = refund_status::pending;
        co_return answer;
    }
    if (answer.refund->status == "succeeded") {
        answer.status = refund_status::succeeded;
    } else if (answer.refund->status == "pending") {
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
    std::vector<store::refund_record> due;
    try {
        due = co_await database_.run([&](pqxx::connection& conn) {
            return store::claim_refunds_to_retry(conn, pending_for.count(), 50,
                                                 retry_after.count());
        });
    } catch (const std::exception& e) {
        logging::warn("could not claim pending refunds", {{"error", e.what()}});
        co_return 0;
    }
    int finished = 0;
    const actor worker{"billpayd:recovery", "billpayd"};
    for (const auto& refund : due) {
        if (refund.attempts > max_attempts) {
            const std::string id = refund.id;
            try {
                co_await database_.run([&id](pqxx::connection& conn) {
                    store::mark_refund_needs_review(conn, id);
                    return true;
                });
            } catch (const std::exception&) {
                continue;  // flagged on a later pass
            }
            logging::error("a refund's outcome is still unknown: flagged for review",
                           {{"refund_id", refund.id}, {"payment_id", refund.payment_id}});
            continue;
        }
        const std::string payment_id = refund.payment_id;
        std::optional<store::payment_record> payment;
        try {
            payment = co_await database_.run([&payment_id](pqxx::connection& conn) {
                return store::find_payment(conn, payment_id);
            });
        } catch (const std::exception&) {
            continue;
        }
        if (!payment) {
            continue;
        }
        auto answer = co_await send(refund, *payment, worker, false);
        if (answer.status != refund_status::pending) {
            ++finished;
        }
    }
    co_return finished;
}

}  // namespace billpay::finance
