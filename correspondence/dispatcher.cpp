#include "correspondence/dispatcher.hpp"

#include <openssl/rand.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "logging/log.hpp"
#include "metrics/metrics.hpp"

namespace billpay::correspondence {
namespace {

namespace asio = boost::asio;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

}  // namespace

dispatcher::dispatcher(asio::io_context& ioc, dispatcher_settings settings, store::outbox& outbox,
                       transport& transport, std::string instance)
    : ioc_(ioc),
      strand_(asio::make_strand(ioc)),
      settings_(settings),
      outbox_(outbox),
      transport_(transport),
      instance_(std::move(instance)),
      wake_(strand_) {}

dispatcher::~dispatcher() { stop(); }

void dispatcher::start() {
    outbox_.messages_added().connect([this] { wake(); });
    asio::co_spawn(strand_, run(), asio::detached);
}

void dispatcher::wake() {
    // Many payments finish per delivery round: one post per round, not one per payment.
    if (!wake_pending_.exchange(true)) {
        asio::post(strand_, [this] { wake_.cancel(); });
    }
}

void dispatcher::stop() {
    if (stopping_.exchange(true)) {
        return;
    }
    outbox_.messages_added().disconnect();
    asio::post(strand_, [this] { wake_.cancel(); });
}

std::chrono::milliseconds dispatcher::backoff(int attempts) const {
    auto delay = settings_.retry_base;
    for (int i = 1; i < attempts && delay < settings_.retry_max; ++i) {
        delay *= 2;
    }
    delay = std::min(delay, settings_.retry_max);
    // Jitter between half and the whole delay, so a recovering receiver is not hit in step.
    unsigned char r = 0;
    RAND_bytes(&r, 1);
    return delay / 2 + delay * r / 512;
}

asio::awaitable<void> dispatcher::run() {
    while (!stopping_) {
        // A message committed before this point is seen by the claim; one committed after it
        // raises the signal again.
        wake_pending_ = false;
        std::vector<store::outbox_message> due;
        if (auto claimed = co_await outbox_.claim_due(settings_.concurrency, settings_.lease)) {
            due = std::move(*claimed);
        } else {
            logging::warn("outbox claim failed", {{"error", store::to_string(claimed.error())}});
        }
        if (!due.empty()) {
            auto results = co_await transport_.deliver(due);
            std::vector<store::delivery_attempt> attempts;
            attempts.reserve(due.size());
            for (std::size_t i = 0; i < due.size(); ++i) {
                attempts.push_back(judge(due[i], results.at(i)));
            }
            auto recorded = co_await outbox_.record(std::move(attempts), instance_);
            if (!recorded) {
                // The claims run out and the messages are sent again: receivers de-duplicate.
                logging::warn("could not record delivery attempts",
                              {{"messages", static_cast<std::int64_t>(due.size())},
                               {"error", store::to_string(recorded.error())}});
            }
            if (static_cast<int>(due.size()) == settings_.concurrency) {
                continue;  // there may be more due right now
            }
        }
        if (wake_pending_ || stopping_) {
            continue;
        }
        wake_.expires_after(settings_.poll_interval);
        co_await wake_.async_wait(use_nothrow);
    }
}

store::delivery_attempt dispatcher::judge(const store::outbox_message& message,
                                          const delivery& result) {
    store::delivery_attempt attempt{message.id, store::delivery_outcome::retry, result.http_status,
                                    result.error, std::chrono::milliseconds{0}};
    switch (result.outcome) {
        case delivery::result::delivered:
            attempt.outcome = store::delivery_outcome::delivered;
            logging::debug("message delivered", {{"message_id", message.id},
                                                 {"type", message.type},
                                                 {"attempts", message.attempts}});
            break;
        case delivery::result::permanent:
            attempt.outcome = store::delivery_outcome::dead;
            logging::error("message refused by the correspondence system: dead-lettered",
                           {{"message_id", message.id},
                            {"payment_id", message.payment_id},
                            {"http_status", result.http_status.value_or(0)},
                            {"error", result.error}});
            break;
        case delivery::result::retry:
            if (message.age_seconds * 1000 > static_cast<double>(settings_.give_up_after.count())) {
                attempt.outcome = store::delivery_outcome::dead;
                logging::error("message undeliverable past the give-up age: dead-lettered",
                               {{"message_id", message.id},
                                {"payment_id", message.payment_id},
                                {"attempts", message.attempts},
                                {"error", result.error}});
            } else {
                attempt.retry_after = backoff(message.attempts);
                logging::warn(
                    "message delivery failed; will retry",
                    {{"message_id", message.id},
                     {"attempts", message.attempts},
                     {"retry_in_ms", static_cast<std::int64_t>(attempt.retry_after.count())},
                     {"http_status", result.http_status.value_or(0)},
                     {"error", result.error}});
            }
            break;
    }
    metrics::process().receipts.add({std::string(store::to_string(attempt.outcome))});
    return attempt;
}

}  // namespace billpay::correspondence
