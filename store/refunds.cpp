#include "store/refunds.hpp"

#include <pqxx/pqxx>

#include "store/database.hpp"
#include "store/outbox.hpp"
#include "store/rows.hpp"

namespace billpay::store {
namespace {

std::optional<std::string> optional_text(const pqxx::field& f) {
    return f.is_null() ? std::nullopt : std::optional<std::string>(f.as<std::string>());
}

}  // namespace

refund_record read_refund(const pqxx::row& r) {
    refund_record out;
    out.id = r[0].as<std::string>();
    out.payment_id = r[1].as<std::string>();
    out.amount.minor_units = r[2].as<std::int64_t>();
    out.amount.unit = model::currency::parse(r[3].as<std::string>()).value();
    out.status = model::parse_refund_status(r[4].as<std::string>()).value();
    out.kind = optional_text(r[5]);
    out.reason = r[6].as<std::string>();
    out.requested_by = r[7].as<std::string>();
    out.processor_reference = optional_text(r[8]);
    out.failure_code = optional_text(r[9]);
    out.failure_message = optional_text(r[10]);
    out.attempts = r[11].as<int>();
    out.needs_review = r[12].as<bool>();
    out.created_at = r[13].as<std::string>();
    out.updated_at = r[14].as<std::string>();
    return out;
}

namespace {

std::optional<refund_record> find_in(pqxx::transaction_base& tx, const std::string& id,
                                     bool for_update) {
    auto rows =
        tx.exec_params(std::string("SELECT ") + refund_columns + " FROM refunds WHERE id = $1" +
                           (for_update ? " FOR UPDATE" : ""),
                       id);
    if (rows.empty()) {
        return std::nullopt;
    }
    return read_refund(rows[0]);
}

}  // namespace

reserve_result reserve_refund(pqxx::connection& conn, const refund_hold& hold,
                              const audit_entry& audit) {
    pqxx::work tx(conn);
    reserve_result out;
    // The payment's row first, then the key's: every transaction that locks both (finish_refund
    // too) takes them in this order.
    out.payment = find_payment_in(tx, hold.payment_id, true);
    if (!out.payment) {
        out.status = reserve_status::no_payment;
        return out;
    }
    if (hold.key) {
        // The key must still be this request's and hold nothing yet: a request that lost it
        // reserves nothing. Its row lock keeps a takeover out until this commits.
        auto key = tx.exec_params(
            "SELECT 1 FROM idempotency_keys WHERE client_id = $1 AND key = $2 AND lease_id = $3"
            "   AND state = 'in_flight' AND payment_id IS NULL AND refund_id IS NULL FOR UPDATE",
            hold.key->client_id, hold.key->key, hold.key->lease_id);
        if (key.empty()) {
            out.status = reserve_status::lease_lost;
            return out;
        }
    }
    const auto& p = *out.payment;
    using model::payment_status;
    if (p.status != payment_status::succeeded && p.status != payment_status::partially_refunded) {
        out.status = reserve_status::not_refundable;
        return out;
    }
    auto held = tx.exec_params(
                      "SELECT coalesce(sum(amount), 0) FROM refunds"
                      " WHERE payment_id = $1 AND status = 'pending'",
                      hold.payment_id)[0][0]
                    .as<std::int64_t>();
    out.remaining = p.amount.minor_units - p.amount_refunded - held;
    std::int64_t wanted = hold.amount.value_or(out.remaining);
    if (out.remaining <= 0) {
        out.status = reserve_status::not_refundable;
        return out;
    }
    if (wanted > out.remaining) {
        out.status = reserve_status::too_much;
        return out;
    }
    auto inserted = tx.exec_params(
        "INSERT INTO refunds (id, payment_id, amount, currency, status, reason, requested_by,"
        " next_attempt_at) VALUES ($1, $2, $3, $4, 'pending', $5, $6,"
        " now() + $7 * interval '1 millisecond') ON CONFLICT (id) DO NOTHING",
        hold.refund_id, hold.payment_id, wanted, std::string(p.amount.unit.code()), hold.reason,
        audit.actor, hold.lease.count());
    if (inserted.affected_rows() == 0) {
        // billpayctl run twice at once with one key: the first one's refund.
        out.status = reserve_status::exists;
        out.refund = find_in(tx, hold.refund_id, false);
        return out;
    }
    if (hold.key) {
        tx.exec_params(
            "UPDATE idempotency_keys SET refund_id = $4,"
            "       leased_until = now() + $5 * interval '1 millisecond'"
            " WHERE client_id = $1 AND key = $2 AND lease_id = $3",
            hold.key->client_id, hold.key->key, hold.key->lease_id, hold.refund_id,
            hold.lease.count());
    }
    append_audit(tx, audit);
    out.refund = find_in(tx, hold.refund_id, false);
    tx.commit();
    out.status = reserve_status::reserved;
    return out;
}

std::pair<refund_record, payment_record> finish_refund(pqxx::connection& conn,
                                                       const std::string& refund_id,
                                                       const refund_outcome& outcome,
                                                       const refund_message_renderer& message,
                                                       const refund_key_answer& key_answer,
                                                       const audit_entry& audit) {
    pqxx::work tx(conn);
    auto refund = find_in(tx, refund_id, false).value();
    // The payment first, then the refund, in every transaction that locks both.
    auto payment = find_payment_in(tx, refund.payment_id, true).value();
    refund = find_in(tx, refund_id, true).value();
    if (refund.status != model::refund_status::pending) {
        tx.commit();
        return {refund, payment};
    }
    tx.exec_params(
        "UPDATE refunds SET status = $2, kind = $3, processor_reference = $4, failure_code = $5,"
        " failure_message = $6, next_attempt_at = NULL, updated_at = now() WHERE id = $1",
        refund_id, std::string(model::to_string(outcome.status)), outcome.kind,
        outcome.processor_reference, outcome.failure_code, outcome.failure_message);
    if (outcome.status == model::refund_status::succeeded) {
        tx.exec_params(
            "UPDATE payments SET amount_refunded = amount_refunded + $2,"
            " status = CASE WHEN amount_refunded + $2 = amount THEN 'refunded'"
            "               ELSE 'partially_refunded' END, updated_at = now() WHERE id = $1",
            refund.payment_id, refund.amount.minor_units);
    }
    refund = find_in(tx, refund_id, false).value();
    payment = find_payment_in(tx, refund.payment_id, false).value();
    if (outcome.status == model::refund_status::succeeded && message) {
        if (auto m = message(payment, refund)) {
            enqueue_refund_message(tx, m->id, payment.id, refund.id, m->body);
        }
    }
    if (key_answer) {
        if (auto answer = key_answer(refund)) {
            // The key this refund was reserved under, if it still waits for an answer (its
            // request died, or this is it): a retry with it replays the refund's answer.
            tx.exec_params(
                "UPDATE idempotency_keys SET state = 'finished', response_status = $2,"
                "       response_body = $3, finished_at = now(), leased_until = NULL"
                " WHERE refund_id = $1 AND state = 'in_flight'",
                refund_id, answer->status, answer->body);
        }
    }
    append_audit(tx, audit);
    tx.commit();
    return {refund, payment};
}

std::optional<refund_record> find_refund(pqxx::connection& conn, const std::string& id) {
    pqxx::read_transaction tx(conn);
    return find_in(tx, id, false);
}

std::vector<refund_record> list_refunds(pqxx::connection& conn, const std::string& payment_id) {
    pqxx::read_transaction tx(conn);
    std::vector<refund_record> out;
    for (const auto& r : tx.exec_params(std::string("SELECT ") + refund_columns +
                                            " FROM refunds WHERE payment_id = $1 ORDER BY"
                                            " created_at, id",
                                        payment_id)) {
        out.push_back(read_refund(r));
    }
    return out;
}

std::vector<refund_record> claim_refunds_to_retry(pqxx::connection& conn,
                                                  std::int64_t pending_for_ms, int batch,
                                                  std::int64_t retry_after_ms) {
    pqxx::work tx(conn);
    auto rows = tx.exec_params(
        std::string("UPDATE refunds SET attempts = attempts + 1,"
                    " next_attempt_at = now() + $3 * interval '1 millisecond'"
                    " WHERE id IN (SELECT id FROM refunds WHERE status = 'pending'"
                    "   AND NOT needs_review AND next_attempt_at <= now()"
                    "   AND created_at <= now() - $1 * interval '1 millisecond'"
                    "   ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING ") +
            refund_columns,
        pending_for_ms, batch, retry_after_ms);
    std::vector<refund_record> out;
    for (const auto& r : rows) {
        out.push_back(read_refund(r));
    }
    tx.commit();
    return out;
}

void mark_refund_needs_review(pqxx::connection& conn, const std::string& refund_id) {
    pqxx::work tx(conn);
    tx.exec_params("UPDATE refunds SET needs_review = true, updated_at = now() WHERE id = $1",
                   refund_id);
    tx.commit();
}

boost::asio::awaitable<result<reserve_result>> refund_store::reserve(const refund_hold& hold,
                                                                     const audit_entry& audit) {
    co_return co_await db_.call(
        [&](pqxx::connection& conn) { return reserve_refund(conn, hold, audit); });
}

boost::asio::awaitable<result<lost_reserve>> refund_store::settle_lost_reserve(
    const refund_hold& hold) {
    co_return co_await db_.call([&hold](pqxx::connection& conn) {
        const key_lease& key = hold.key.value();
        pqxx::nontransaction tx(conn);  // one statement; its commit waits for the standby
        const auto status =
            tx.exec_params1("SELECT status FROM billpay_settle_lost_reserve($1, $2, $3, $4, $5)",
                            key.client_id, key.key, key.lease_id, hold.refund_id,
                            static_cast<std::int64_t>(hold.lease.count()))[0]
                .as<std::string>();
        return status == "reserved"       ? lost_reserve::reserved
               : status == "not_reserved" ? lost_reserve::not_reserved
                                          : lost_reserve::lease_lost;
    });
}

boost::asio::awaitable<result<std::pair<refund_record, payment_record>>> refund_store::finish(
    const std::string& refund_id, const refund_outcome& outcome,
    const refund_message_renderer& message, const refund_key_answer& key_answer,
    const audit_entry& audit) {
    auto finished = co_await db_.call([&](pqxx::connection& conn) {
        return finish_refund(conn, refund_id, outcome, message, key_answer, audit);
    });
    if (finished) {
        db_.messages_added().raise();  // a refund receipt, when it ended
    }
    co_return finished;
}

boost::asio::awaitable<result<std::optional<refund_record>>> refund_store::find(
    const std::string& id) {
    co_return co_await db_.call([&id](pqxx::connection& conn) { return find_refund(conn, id); });
}

boost::asio::awaitable<result<std::pair<std::optional<payment_record>, std::vector<refund_record>>>>
refund_store::list(const std::string& payment_id) {
    co_return co_await db_.call([&payment_id](pqxx::connection& conn) {
        return std::pair{find_payment(conn, payment_id), list_refunds(conn, payment_id)};
    });
}

boost::asio::awaitable<result<std::optional<payment_record>>> refund_store::payment_of(
    const refund_record& refund) {
    co_return co_await db_.call(
        [&refund](pqxx::connection& conn) { return find_payment(conn, refund.payment_id); });
}

boost::asio::awaitable<result<std::vector<refund_record>>> refund_store::claim_for_retry(
    std::chrono::milliseconds pending_for, int batch, std::chrono::milliseconds retry_after) {
    co_return co_await db_.call([=](pqxx::connection& conn) {
        return claim_refunds_to_retry(conn, pending_for.count(), batch, retry_after.count());
    });
}

boost::asio::awaitable<result<void>> refund_store::flag_for_review(const std::string& refund_id) {
    co_return co_await db_.call(
        [&refund_id](pqxx::connection& conn) { mark_refund_needs_review(conn, refund_id); });
}

}  // namespace billpay::store
