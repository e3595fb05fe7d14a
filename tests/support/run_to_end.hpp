#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <utility>

namespace billpay::test {

/// Runs `work` on `ioc` until nothing is left to run, and returns what it returned (or rethrows
/// what it threw). The io_context may have run before.
template <class T>
T run_to_end(boost::asio::io_context& ioc, boost::asio::awaitable<T> work) {
    auto done = boost::asio::co_spawn(ioc, std::move(work), boost::asio::use_future);
    ioc.restart();
    ioc.run();
    return done.get();
}

/// The same on an io_context of its own.
template <class T>
T run_to_end(boost::asio::awaitable<T> work) {
    boost::asio::io_context ioc;
    return run_to_end(ioc, std::move(work));
}

}  // namespace billpay::test
