#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "config/settings.hpp"
#include "store/audit.hpp"
#include "store/database.hpp"

namespace billpay::ctl {

/// What one billpayctl command runs on: the store (two connections unless the command needs
/// more, the configured timeouts),
/// and an event loop on which it waits for the libraries' coroutines, one after another.
class command_session {
  public:
    explicit command_session(const config::settings& settings)
        : command_session(settings, settings.database.statement_timeout) {}
    command_session(const config::settings& settings, std::chrono::milliseconds statement_timeout,
                    int connections = 2)
        : database_(store::database_options{settings.database.dsn, connections,
                                            settings.database.connect_timeout, statement_timeout,
                                            std::chrono::minutes(1)}) {}

    store::database& database() noexcept { return database_; }
    boost::asio::io_context& io_context() noexcept { return ioc_; }

    /// Runs `work` to its end and returns what it returns (or rethrows what it throws).
    template <class T>
    T wait(boost::asio::awaitable<T> work) {
        auto done = boost::asio::co_spawn(ioc_, std::move(work), boost::asio::use_future);
        ioc_.restart();
        ioc_.run();
        return done.get();
    }

  private:
    boost::asio::io_context ioc_;
    store::database database_;
};

/// "billpayctl:<user>" ($SUDO_USER, $USER or $LOGNAME).
std::string operator_name();
/// "host:<hostname>".
std::string operator_source();

/// An audit row of this operator's action (`details`: counts, filters; never personal data).
store::audit_entry by_operator(std::string action, std::string records, std::string reason,
                               boost::json::object details);

/// Whether this command holds the configured processor's credentials (billpayctl's units load
/// only the database's unless a drop-in adds them); when not, says so for `command` and that
/// `nothing_done` ("nothing was refunded").
bool has_processor_credentials(const config::settings& settings, std::string_view command,
                               std::string_view nothing_done);

/// A file's whole content; nullopt when it cannot be read.
std::optional<std::string> read_file(const std::string& path);
/// Writes `content` to `output` ("" or "-": standard output); 0, or 1 after saying why.
int write_output(const std::string& output, const std::string& content);

}  // namespace billpay::ctl
