#include "correspondence/dispatcher.hpp"

#include <openssl/rand.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

#include "logging/log.hpp"

namespace billpay::correspondence {
namespace {

namespace asio = boost::asio;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

}  // namespace

dispatcher::dispatcher(asio::io_context& ioc, dispatcher_settings settings, store::outbox& outbox,
                       transport& transport, std::string listen_dsn, std::string instance)
    : ioc_(ioc),
      strand_(asio::make_strand(ioc)),
      settings_(settings),
      outbox_(outbox),
      transport_(transport),
      listen_dsn_(std::move(listen_dsn)),
      instance_(std::move(instance)),
      wake_(strand_) {}

dispatcher::~dispatcher() {
    stop();
    listener_.reset();  // joins within a second
}

void dispatcher::start() {
    asio::co_spawn(strand_, run(), asio::detached);
    listener_ = std::make_unique<store::outbox_listener>(
        listen_dsn_, [this] { asio::post(strand_, [this] { wake_.cancel(); }); });
}

void dispatcher::stop() {
    if (stopping_.exchange(true)) {
        return;
    }
    if (listener_) {
        listener_->stop();
    }
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
        std::vector<store::outbox_message> due;
        if (auto claimed = co_await outbox_.claim_due(settings_.concurrency, settings_.lease)) {
            due = std::move(*claimed);
        } else {
            logging::warn("outbox claim failed", {{"error", store::to_string(claimed.error())}});
        }
        if (!due.empty()) {
            auto remaining = std::make_shared<std::size_t>(due.size());
            asio::steady_timer all_done(strand_, asio::steady_timer::time_point::max());
            for (auto& message : due) {
                asio::co_spawn(
                    strand_,
                    [this, message = std::move(message), remaining,
                     &all_done]() mutable -> asio::awaitable<void> {
                        co_await deliver_one(std::move(message));
                        if (--*remaining == 0) {
                            all_done.cancel();
                        }
                    },
                    asio::detached);
            }
            co_await all_done.async_wait(use_nothrow);
            if (static_cast<int>(due.size()) == settings_.concurrency) {
                continue;  // there may be more due right now
            }
        }
        wake_.expires_after(settings_.poll_interval);
        co_await wake_.async_wait(use_nothrow);
    }
}

asio::awaitable<void> dispatcher::deliver_one(store::outbox_message message) {
    auto result = co_await transport_.deliver(message);
    store::delivery_outcome outcome = store::delivery_outcome::retry;
    std::chrono::milliseconds retry_after{0};
    switch (result.outcome) {
        case delivery::result::delivered:
            outcome = store::delivery_outcome::delivered;
            logging::debug("message delivered", {{"message_id", message.id},
                                                 {"type", message.type},
                                                 {"attempts", message.attempts}});
            break;
        case delivery::result::permanent:
            outcome = store::delivery_outcome::dead;
            logging::error("message refused by the correspondence system: dead-lettered",
                           {{"message_id", message.id},
                            {"payment_id", message.payment_id},
                            {"http_status", result.http_status.value_or(0)},
                            {"error", result.error}});
            break;
        case delivery::result::retry:
            if (message.age_seconds * 1000 > static_cast<double>(settings_.give_up_after.count())) {
                outcome = store::delivery_outcome::dead;
                logging::error("message undeliverable past the give-up age: dead-lettered",
                               {{"message_id", message.id},
                                {"payment_id", message.payment_id},
                                {"attempts", message.attempts},
                                {"error", result.error}});
            } else {
                retry_after = backoff(message.attempts);
                logging::warn("message delivery failed; will retry",
                              {{"message_id", message.id},
                               {"attempts", message.attempts},
                               {"retry_in_ms", static_cast<std::int64_t>(retry_after.count())},
                               {"http_status", result.http_status.value_or(0)},
                               {"error", result.error}});
            }
            break;
    }
    auto recorded = co_await outbox_.record_attempt(message.id, outcome, result.http_status,
                                                    result.error, retry_after, instance_);
    if (!recorded) {
        // The lease runs out and the message is tried again: the receiver de-duplicates by id.
        logging::warn("could not record a delivery attempt",
                      {{"message_id", message.id}, {"error", store::to_string(recorded.error())}});
    }
}

}  // namespace billpay::correspondence
