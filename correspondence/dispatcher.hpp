#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <string>

#include "correspondence/transport.hpp"
#include "store/outbox.hpp"

namespace billpay::correspondence {

struct dispatcher_settings {
    std::chrono::milliseconds poll_interval{1'000};  // for messages other processes added
    int concurrency = 16;                            // a batch: deliveries at once, per process
    std::chrono::milliseconds lease{60'000};         // a claimed message is ours this long
    std::chrono::milliseconds retry_base{1'000};     // first retry; doubles each attempt
    std::chrono::milliseconds retry_max{300'000};
    std::chrono::milliseconds give_up_after{72 * 3'600'000LL};  // then dead-lettered
};

/// Delivers the outbox off the request path, inside billpayd. It wakes when this process adds a
/// message (store::outbox_signal, raised after the commit) and every `poll_interval` for the
/// messages of other processes; claims a batch of due messages in one statement, with FOR UPDATE
/// SKIP LOCKED (several processes share the work and never send one message at once), hands the
/// batch to the transport, and records the batch's attempts in one statement.
/// Failures retry with exponential backoff and jitter; past `give_up_after`, or on a permanent
/// refusal, a message is dead-lettered and stays visible (billpayctl receipts list --status dead).
class dispatcher {
  public:
    dispatcher(boost::asio::io_context& ioc, dispatcher_settings settings, store::outbox& outbox,
               transport& transport, std::string instance);
    ~dispatcher();

    /// Starts the delivery loop and connects it to the outbox's signal.
    void start();
    /// Stops it without blocking (callable from the event loop); deliveries under way finish
    /// or are retried by the next process.
    void stop();

  private:
    boost::asio::awaitable<void> run();
    /// What an attempt's result means for its message (and the log line that says so).
    store::delivery_attempt judge(const store::outbox_message& message, const delivery& result);
    [[nodiscard]] std::chrono::milliseconds backoff(int attempts) const;
    void wake();

    boost::asio::io_context& ioc_;
    boost::asio::strand<boost::asio::io_context::executor_type> strand_;
    dispatcher_settings settings_;
    store::outbox& outbox_;
    transport& transport_;
    std::string instance_;
    boost::asio::steady_timer wake_;
    std::atomic<bool> wake_pending_{false};  // woken while busy: look again before sleeping
    std::atomic<bool> stopping_{false};
};

}  // namespace billpay::correspondence
