#pragma once

#include <spdlog/common.h>

#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>
#include <chrono>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace billpay::logging {

/// One named value attached to a log line, e.g. {"request_id", id} or {"port", 8443}. Any
/// value Boost.JSON can convert (strings, numbers, booleans, containers of them) is accepted.
struct field {
    template <class T>
    field(std::string_view k, const T& v) : key(k), value(boost::json::value_from(v)) {}
    field(std::string_view k, std::string_view v) : key(k), value(boost::json::string(v)) {}
    field(std::string_view k, const char* v) : key(k), value(boost::json::string(v)) {}

    std::string_view key;
    boost::json::value value;
};

/// Sets up the process-wide logger: one JSON object per line on stderr (journald keeps it).
/// stderr is buffered: lines at warn and above are flushed at once, the rest at least every
/// 250 ms and by flush() (call it before the process exits; exit() flushes stdio too).
/// `level` is one of trace, debug, info, warn, error, critical, off (config `logging.level`).
/// Throws std::invalid_argument for any other level name.
void init(std::string_view level);

/// Writes out every line logged so far.
void flush() noexcept;

/// Changes the level of the running logger (same names as init).
void set_level(std::string_view level);

/// True when a line at `lvl` would be written; lets callers skip building costly fields.
bool enabled(spdlog::level::level_enum lvl);

/// Renders one log line as JSON: {"time", "level", "message", ...fields}, then masks anything
/// that looks like a card number (see scrubber.hpp). Exposed for tests.
std::string format_line(std::chrono::system_clock::time_point time, spdlog::level::level_enum lvl,
                        std::string_view message, std::initializer_list<field> fields);

/// One line as journal fields, for journald's native protocol: MESSAGE= (the JSON line, as on
/// stderr, so `journalctl -o cat` reads the same), PRIORITY= (syslog: debug 7, info 6, warn 4,
/// error 3, critical 2), SYSLOG_IDENTIFIER=billpayd, and each field as its upper-cased name
/// (REQUEST_ID=, PAYMENT_ID=, STATUS=, …; strings as they are, other values as JSON), each
/// value scrubbed of card numbers. Names journald would refuse (not [A-Z0-9_], a leading
/// underscore or digit, over 64 bytes) are left to the JSON line. Exposed for tests.
std::vector<std::string> journal_fields(std::chrono::system_clock::time_point time,
                                        spdlog::level::level_enum lvl, std::string_view message,
                                        std::initializer_list<field> fields);

/// Whether this process's stderr is the journal's stream (systemd's JOURNAL_STREAM names the
/// device and inode of the stream it connected; `journal_stream` is that variable's value).
/// Then lines go to the journal with their fields instead of to stderr.
bool stderr_is_journal(const char* journal_stream) noexcept;

/// Writes one line if the level is enabled. Never throws: a log line must not fail a payment.
void write(spdlog::level::level_enum lvl, std::string_view message,
           std::initializer_list<field> fields = {}) noexcept;

inline void debug(std::string_view message, std::initializer_list<field> fields = {}) noexcept {
    write(spdlog::level::debug, message, fields);
}
inline void info(std::string_view message, std::initializer_list<field> fields = {}) noexcept {
    write(spdlog::level::info, message, fields);
}
inline void warn(std::string_view message, std::initializer_list<field> fields = {}) noexcept {
    write(spdlog::level::warn, message, fields);
}
inline void error(std::string_view message, std::initializer_list<field> fields = {}) noexcept {
    write(spdlog::level::err, message, fields);
}

}  // namespace billpay::logging
