#include "store/database.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <pqxx/pqxx>
#include <thread>

#include "tests/support/test_database.hpp"

namespace {

using namespace billpay;
namespace asio = boost::asio;
using namespace std::chrono_literals;

TEST(Database, ACoroutineGetsTheResultOfAJobRunOnAStoreThread) {
    test::test_database db;
    store::database pool({billpay::config::secret(db.dsn()), 2, 2000ms});
    asio::io_context ioc;
    auto loop_thread = std::this_thread::get_id();
    auto result = asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<std::pair<int, bool>> {
            auto [value, on_store_thread] = co_await pool.run([&](pqxx::connection& conn) {
                pqxx::read_transaction tx(conn);
                return std::pair{tx.exec("SELECT 40 + 2")[0][0].as<int>(),
                                 std::this_thread::get_id() != loop_thread};
            });
            // Resumed on the loop's thread, not the store's.
            EXPECT_EQ(std::this_thread::get_id(), loop_thread);
            co_return std::pair{value, on_store_thread};
        },
        asio::use_future);
    ioc.run();
    auto [value, on_store_thread] = result.get();
    EXPECT_EQ(value, 42);
    EXPECT_TRUE(on_store_thread);
}

TEST(Database, TheEventLoopKeepsRunningWhileJobsBlock) {
    test::test_database db;
    store::database pool({billpay::config::secret(db.dsn()), 2, 2000ms});
    asio::io_context ioc;
    int ticks = 0;
    auto slow = asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<bool> {
            co_return co_await pool.run([](pqxx::connection& conn) {
                pqxx::nontransaction tx(conn);
                tx.exec("SELECT pg_sleep(0.5)");
                return true;
            });
        },
        asio::use_future);
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            asio::steady_timer timer(co_await asio::this_coro::executor);
            for (int i = 0; i < 10; ++i) {
                timer.expires_after(20ms);
                co_await timer.async_wait(asio::use_awaitable);
                ++ticks;
            }
        },
        asio::detached);
    ioc.run();
    EXPECT_TRUE(slow.get());
    EXPECT_EQ(ticks, 10);
}

TEST(Database, AnSqlErrorReachesTheCallerAndTheConnectionStaysUsable) {
    test::test_database db;
    store::database pool({billpay::config::secret(db.dsn()), 1, 2000ms});
    EXPECT_THROW(pool.run_blocking([](pqxx::connection& conn) {
        pqxx::work tx(conn);
        tx.exec("SELECT * FROM no_such_table");
        return true;
    }),
                 pqxx::undefined_table);
    EXPECT_EQ(pool.run_blocking([](pqxx::connection& conn) {
        pqxx::read_transaction tx(conn);
        return tx.exec("SELECT 7")[0][0].as<int>();
    }),
              7);
}

TEST(Database, AnUnreachableServerIsReportedAsUnavailable) {
    store::database pool(
        {billpay::config::secret("host=/nonexistent-socket-dir dbname=x"), 1, 1000ms});
    EXPECT_THROW(pool.run_blocking([](pqxx::connection&) { return true; }), store::unavailable);
}

TEST(Database, AKilledConnectionIsReplacedOnTheNextJob) {
    test::test_database db;
    store::database pool({billpay::config::secret(db.dsn()), 1, 2000ms});
    int pid = pool.run_blocking([](pqxx::connection& conn) {
        pqxx::read_transaction tx(conn);
        return tx.exec("SELECT pg_backend_pid()")[0][0].as<int>();
    });
    {
        pqxx::connection admin(db.dsn());
        pqxx::nontransaction tx(admin);
        tx.exec("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
    }
    // The job that meets the dead connection fails as unavailable; the one after it works.
    auto probe = [](pqxx::connection& conn) {
        pqxx::read_transaction tx(conn);
        return tx.exec("SELECT pg_backend_pid()")[0][0].as<int>();
    };
    int new_pid = 0;
    for (int attempt = 0; attempt < 2 && new_pid == 0; ++attempt) {
        try {
            new_pid = pool.run_blocking(probe);
        } catch (const store::unavailable&) {
        }
    }
    EXPECT_NE(new_pid, 0);
    EXPECT_NE(new_pid, pid);
}

TEST(Database, AJobThatWaitedPastTheQueueBoundIsRefusedAsBusyNotRun) {
    test::test_database db;
    // One connection, busy for 400 ms; a job may wait 100 ms for it.
    store::database pool({billpay::config::secret(db.dsn()), 1, 2000ms, 10'000ms, 100ms});
    asio::io_context ioc;
    std::atomic<bool> second_ran{false};
    auto slow = asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<store::result<void>> {
            co_return co_await pool.call([](pqxx::connection& conn) {
                pqxx::nontransaction tx(conn);
                tx.exec("SELECT pg_sleep(0.4)");
            });
        },
        asio::use_future);
    auto queued = asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<store::result<int>> {
            co_return co_await pool.call([&](pqxx::connection&) {
                second_ran = true;
                return 1;
            });
        },
        asio::use_future);
    ioc.run();
    EXPECT_TRUE(slow.get().has_value());
    auto refused = queued.get();
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error(), store::error::busy);
    EXPECT_FALSE(second_ran);  // its caller was told; the job itself never ran
}

TEST(Database, WhatPostgreSqlSaysBecomesTheStoresOwnErrors) {
    test::test_database db;
    store::database pool({billpay::config::secret(db.dsn()), 1, 2000ms, 200ms});
    asio::io_context ioc;
    auto run = [&](auto job) {
        auto done = asio::co_spawn(
            ioc,
            [&]() -> asio::awaitable<store::result<void>> { co_return co_await pool.call(job); },
            asio::use_future);
        ioc.restart();
        ioc.run();
        return done.get();
    };
    auto too_slow = run([](pqxx::connection& conn) {
        pqxx::nontransaction tx(conn);
        tx.exec("SELECT pg_sleep(1)");  // past the statement timeout
    });
    EXPECT_EQ(too_slow.error(), store::error::unavailable);
    auto unique = run([](pqxx::connection& conn) {
        pqxx::work tx(conn);
        tx.exec("CREATE TEMP TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (1)");
    });
    EXPECT_EQ(unique.error(), store::error::conflict);
    auto bad_time = run([](pqxx::connection& conn) {
        pqxx::work tx(conn);
        tx.exec("SELECT '2026-13-45'::timestamptz");
    });
    EXPECT_EQ(bad_time.error(), store::error::invalid_argument);
}

}  // namespace
