#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/connection>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "config/secret.hpp"
#include "store/errors.hpp"
#include "store/outbox_signal.hpp"

namespace billpay::store {

/// How the store reaches PostgreSQL (config section `database`).
struct database_options {
    /// The libpq connection string: it may hold a password, so it lives in wiped storage.
    config::secret dsn;
    int pool_size = 8;
    std::chrono::milliseconds connect_timeout{5'000};
    /// The server cancels any statement running longer (a hung query must not hold a request).
    std::chrono::milliseconds statement_timeout{10'000};
    /// A job that waited longer than this for a store thread is not run: it ends with
    /// error::busy (the API answers 503 store_busy), so no request waits without bound.
    std::chrono::milliseconds queue_timeout{2'000};
    /// Jobs waiting for a store thread at most; one more ends at once with error::busy.
    int queue_limit = 1'024;
};

/// Thrown inside the store when the database could not be reached or the connection broke
/// during a job; call() turns it into error::unavailable.
class unavailable : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

template <class T>
struct is_result : std::false_type {};
template <class T>
struct is_result<result<T>> : std::true_type {};

/// What a job returning R gives through call(): R itself when it is a store::result, else
/// result<R> (result<void> for a job returning nothing).
template <class R>
struct call_result {
    using type = result<R>;
};
template <class T>
struct call_result<result<T>> {
    using type = result<T>;
};

/// The pool of PostgreSQL connections. libpqxx is blocking, so each connection belongs to one of
/// the store's own threads; coroutines on the event loop hand those threads a job with run() and
/// resume, on their own executor, when it is done. The event loop itself never touches a socket
/// to PostgreSQL.
///
/// Connections are opened on first use and reopened after they break, so billpayd starts (and
/// /readyz reports) while the database is away, and recovers by itself when it returns.
class database {
  public:
    explicit database(database_options options);
    ~database();
    database(const database&) = delete;
    database& operator=(const database&) = delete;

    /// Runs `fn(pqxx::connection&)` on a store thread and completes with its result, or with the
    /// exception it threw (a broken connection arrives as store::unavailable). `fn` must return
    /// a value; use bool for "done".
    template <class Fn, class CompletionToken = boost::asio::use_awaitable_t<>>
    auto run(Fn fn, CompletionToken&& token = {}) {
        using result_type = std::invoke_result_t<Fn&, pqxx::connection&>;
        static_assert(!std::is_void_v<result_type>, "a store job returns a value");
        return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, result_type)>(
            [this](auto handler, Fn fn) {
                submit(std::make_unique<job_impl<Fn, decltype(handler)>>(std::move(fn),
                                                                         std::move(handler)));
            },
            token, std::move(fn));
    }

    /// The same with every failure as a value: `fn(pqxx::connection&)` may return T, void or a
    /// store::result<T>; an exception it throws (or a broken connection, or a wait past
    /// queue_timeout) comes back as the store::error it stands for. Repositories use this; no
    /// libpqxx type or exception reaches their callers.
    template <class Fn>
    boost::asio::awaitable<typename call_result<std::invoke_result_t<Fn&, pqxx::connection&>>::type>
    call(Fn fn) {
        using job_result = std::invoke_result_t<Fn&, pqxx::connection&>;
        try {
            // Named, not temporaries in the co_await expression (GCC 12, bug 101367).
            if constexpr (std::is_void_v<job_result>) {
                auto job = [fn = std::move(fn)](pqxx::connection& conn) mutable {
                    fn(conn);
                    return true;
                };
                co_await run(std::move(job));
                co_return result<void>{};
            } else {
                auto value = co_await run(std::move(fn));
                co_return value;
            }
        } catch (...) {
            co_return error_of(std::current_exception());
        }
    }

    /// The same on the calling thread's behalf, blocking it: for billpayctl and tests only.
    template <class Fn>
    auto run_blocking(Fn fn) {
        using result_type = std::invoke_result_t<Fn&, pqxx::connection&>;
        std::mutex m;
        std::condition_variable cv;
        std::optional<result_type> value;
        std::exception_ptr error;
        bool done = false;
        submit(std::make_unique<blocking_job<Fn, result_type>>(std::move(fn), m, cv, value, error,
                                                               done));
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return done; });
        if (error) {
            std::rethrow_exception(error);
        }
        return std::move(*value);
    }

    [[nodiscard]] const database_options& options() const noexcept { return options_; }

    /// Raised by the repositories after a commit that may have added an outbox message.
    [[nodiscard]] outbox_signal& messages_added() noexcept { return messages_added_; }

    /// How many of the store's connections run a job now (for /metrics; of options().pool_size).
    [[nodiscard]] int connections_in_use() const noexcept {
        return in_use_.load(std::memory_order_relaxed);
    }

  private:
    struct job {
        virtual ~job() = default;
        std::chrono::steady_clock::time_point enqueued_at = std::chrono::steady_clock::now();
        /// `conn` is null when no connection could be opened; `failure` then says why.
        /// Returns false when the job found the connection broken.
        virtual bool execute(pqxx::connection* conn, std::exception_ptr failure) = 0;
    };

    template <class Fn, class Handler>
    struct job_impl final : job {
        using result_type = std::invoke_result_t<Fn&, pqxx::connection&>;
        job_impl(Fn f, Handler h)
            : fn(std::move(f)),
              handler(std::move(h)),
              work(boost::asio::make_work_guard(boost::asio::get_associated_executor(handler))) {}

        bool execute(pqxx::connection* conn, std::exception_ptr failure) override {
            std::optional<result_type> value;
            bool healthy = true;
            if (conn) {
                value = run_on(fn, *conn, failure, healthy);
            }
            auto executor = work.get_executor();
            boost::asio::post(executor,
                              [h = std::move(handler), failure, v = std::move(value)]() mutable {
                                  if (v) {
                                      std::move(h)(failure, std::move(*v));
                                  } else {
                                      std::move(h)(failure, result_type{});
                                  }
                              });
            work.reset();
            return healthy;
        }

        Fn fn;
        Handler handler;
        boost::asio::executor_work_guard<boost::asio::associated_executor_t<Handler>> work;
    };

    template <class Fn, class Result>
    struct blocking_job final : job {
        blocking_job(Fn f, std::mutex& m, std::condition_variable& cv, std::optional<Result>& v,
                     std::exception_ptr& e, bool& d)
            : fn(std::move(f)), mutex(m), done_cv(cv), value(v), error(e), done(d) {}

        bool execute(pqxx::connection* conn, std::exception_ptr failure) override {
            std::optional<Result> result;
            bool healthy = true;
            if (conn) {
                result = run_on(fn, *conn, failure, healthy);
            }
            std::lock_guard lock(mutex);
            value = std::move(result);
            error = failure;
            done = true;
            done_cv.notify_one();
            return healthy;
        }

        Fn fn;
        std::mutex& mutex;
        std::condition_variable& done_cv;
        std::optional<Result>& value;
        std::exception_ptr& error;
        bool& done;
    };

    /// Runs one job's `fn` on `conn`: its result, or nullopt with `failure` set (and `healthy`
    /// false when the connection must be dropped).
    template <class Fn>
    static auto run_on(Fn& fn, pqxx::connection& conn, std::exception_ptr& failure, bool& healthy)
        -> std::optional<std::invoke_result_t<Fn&, pqxx::connection&>> {
        forget_unconfirmed_commit();
        try {
            auto value = fn(conn);
            if (auto unconfirmed = unconfirmed_commit()) {
                failure = unconfirmed;
                healthy = false;
                return std::nullopt;
            }
            return value;
        } catch (...) {
            failure = translate_current_exception(healthy);
            return std::nullopt;
        }
    }

    /// Turns libpqxx's broken_connection into store::unavailable; other exceptions pass as
    /// they are (repositories map SQLSTATEs to their own error codes at their edge). Sets
    /// `healthy` to false when the connection must be dropped.
    static std::exception_ptr translate_current_exception(bool& healthy);

    /// Whether a commit of the job this thread runs ended its wait for the synchronous standby
    /// without the standby's word (PostgreSQL's warning "canceling wait for synchronous
    /// replication": the commit stands on this server alone, and a failover would lose it):
    /// then store::unavailable, for the job's outcome is unknown, not done.
    static std::exception_ptr unconfirmed_commit();
    static void forget_unconfirmed_commit() noexcept;

    struct session;
    void submit(std::unique_ptr<job> j);
    void worker_loop();

    database_options options_;
    outbox_signal messages_added_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::unique_ptr<job>> queue_;
    bool stopping_ = false;
    std::atomic<int> in_use_{0};
    std::vector<std::thread> threads_;
};

/// The connection string libpq gets: the configured DSN plus a connect timeout, a statement
/// timeout and the application name, unless the DSN sets them itself. Works for URIs and
/// key=value strings.
config::secret connection_string(std::string_view dsn, std::chrono::milliseconds connect_timeout,
                                 std::chrono::milliseconds statement_timeout);

}  // namespace billpay::store
