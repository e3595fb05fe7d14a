#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace billpay::gateway::simulator {

struct token_row {
    std::string token;
    std::string behaviour;  // approve, decline:<code>, processing_error, answer_lost, …
    std::string brand;
    std::string last4;
    bool deleted = false;
};

struct charge_row {
    std::string key;  // our idempotency key (the payment id)
    std::string reference;
    std::string token;
    std::int64_t amount = 0;
    std::string currency;
    std::string outcome;  // approved | declined
    std::string decline_code;
    std::int64_t amount_refunded = 0;
};

struct refund_row {
    std::string key;
    std::string reference;
    std::string charge_reference;
    std::int64_t amount = 0;
    std::string kind;  // refund | void
};

/// Everything the ledger holds, as read from its file.
struct ledger_contents {
    std::map<std::string, token_row> tokens;    // by token
    std::map<std::string, charge_row> charges;  // by idempotency key
    std::map<std::string, refund_row> refunds;  // by idempotency key
    std::map<std::string, std::string> charge_key_by_reference;

    /// The charge a processor reference names, if any.
    [[nodiscard]] const charge_row* charge_by_reference(const std::string& reference) const;
};

/// The simulator's memory, as a processor keeps it on its own side: one JSON line per event
/// (a token made or deleted, a charge, a refund) appended to a file of its own
/// (`gateway.simulator.ledger`), never billpayd's database. A charge is written before it is
/// answered, so neither a lost answer nor a `kill -9` of billpayd makes it forget one; the
/// write reaches the kernel before the call returns (no fsync: a processor's durability is on
/// its own machines, not this disk, and the simulator must cost the payment path no more than a
/// call to one would). Several processes may share one file: each write holds an exclusive
/// lock on it and first reads what the others appended. File work runs on the ledger's own
/// thread; callers co_await it.
class ledger {
  public:
    explicit ledger(std::filesystem::path file);
    ~ledger();
    ledger(const ledger&) = delete;
    ledger& operator=(const ledger&) = delete;

    boost::asio::awaitable<void> save_token(const token_row& token);
    boost::asio::awaitable<std::optional<token_row>> find_token(const std::string& token);
    /// False when there was no such live token.
    boost::asio::awaitable<bool> delete_token(const std::string& token);
    /// Records `proposed` unless a charge under its key exists; returns the charge the key
    /// stands for (a processor never charges one key twice).
    boost::asio::awaitable<charge_row> record_charge(const charge_row& proposed);
    boost::asio::awaitable<std::optional<charge_row>> find_charge(const std::string& key);
    /// Records a refund or void of part of an approved charge, once per key; nullopt when it is
    /// more than what remains of the charge, or there is no such charge.
    boost::asio::awaitable<std::optional<refund_row>> record_refund(const refund_row& proposed);

    /// What a ledger file holds, read once (for tests and tools).
    static ledger_contents read(const std::filesystem::path& file);

  private:
    /// Runs `fn()` on the ledger's thread and completes with its result (or its exception).
    template <class Fn>
    auto on_thread(Fn fn) {
        using value_type = std::invoke_result_t<Fn&>;
        return boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                           void(std::exception_ptr, value_type)>(
            [this](auto handler, Fn fn) {
                auto work =
                    boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
                enqueue([fn = std::move(fn), handler = std::move(handler),
                         work = std::move(work)]() mutable {
                    std::exception_ptr failure;
                    value_type value{};
                    try {
                        value = fn();
                    } catch (...) {
                        failure = std::current_exception();
                    }
                    auto executor = work.get_executor();
                    boost::asio::post(executor, [h = std::move(handler), failure,
                                                 v = std::move(value)]() mutable {
                        std::move(h)(failure, std::move(v));
                    });
                    work.reset();
                });
            },
            boost::asio::use_awaitable, std::move(fn));
    }

    /// A move-only job for the thread.
    struct job {
        virtual ~job() = default;
        virtual void run() = 0;
    };
    template <class F>
    struct job_impl final : job {
        explicit job_impl(F f) : fn(std::move(f)) {}
        void run() override { fn(); }
        F fn;
    };
    template <class F>
    void enqueue(F f) {
        {
            std::lock_guard lock(mutex_);
            queue_.push_back(std::make_unique<job_impl<F>>(std::move(f)));
        }
        wake_.notify_one();
    }
    void thread_loop();

    // On the ledger's thread only:
    void catch_up();
    void append(const std::string& line);
    void apply(const std::string& line);

    std::filesystem::path file_;
    int fd_ = -1;
    std::uint64_t read_offset_ = 0;
    std::string partial_;  // the start of a line another process is still writing
    ledger_contents contents_;

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::unique_ptr<job>> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace billpay::gateway::simulator
