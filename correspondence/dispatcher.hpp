#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "correspondence/transport.hpp"
#include "store/outbox.hpp"

namespace billpay::correspondence {

struct dispatcher_settings {
    std::chrono::milliseconds poll_interval{5'000};  // the fallback when no NOTIFY arrives
    int concurrency = 16;                            // deliveries at once, per process
    std::chrono::milliseconds lease{60'000};         // a claimed message is ours this long
    std::chrono::milliseconds retry_base{1'000};     // first retry; doubles each attempt
    std::chrono::milliseconds retry_max{300'000};
    std::chrono::milliseconds give_up_after{72 * 3'600'000LL};  // then dead-lettered
};

/// Delivers the outbox off the request path, inside billpayd. It wakes on PostgreSQL
/// LISTEN/NOTIFY (store::outbox_listener) and on a slow poll,
/// claims due messages with FOR UPDATE SKIP LOCKED (several processes share the work and never
/// send one message at once), delivers up to `concurrency` at a time, and records every attempt.
/// Failures retry with exponential backoff and jitter; past `give_up_after`, or on a permanent
/// refusal, a message is dead-lettered and stays visible (billpayctl receipts list --status dead).
class dispatcher {
  public:
    dispatcher(boost::asio::io_context& ioc, dispatcher_settings settings, store::outbox& outbox,
               transport& transport, std::string listen_dsn, std::string instance);
    ~dispatcher();

    /// Starts the delivery loop and the listener thread.
    void start();
    /// Stops both without blocking (callable from the event loop); deliveries under way finish
    /// or are retried by the next process. The destructor waits for the listener thread.
    void stop();

  private:
    boost::asio::awaitable<void> run();
    boost::asio::awaitable<void> deliver_one(store::outbox_message message);
    [[nodiscard]] std::chrono::milliseconds backoff(int attempts) const;

    boost::asio::io_context& ioc_;
    boost::asio::strand<boost::asio::io_context::executor_type> strand_;
    dispatcher_settings settings_;
    store::outbox& outbox_;
    transport& transport_;
    std::string listen_dsn_;
    std::string instance_;
    boost::asio::steady_timer wake_;
    std::atomic<bool> stopping_{false};
    std::unique_ptr<store::outbox_listener> listener_;
};

}  // namespace billpay::correspondence
