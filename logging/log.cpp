#include "logging/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <thread>

#include "logging/scrubber.hpp"
#include "model/time.hpp"

namespace billpay::logging {
namespace {

std::shared_ptr<spdlog::logger>& logger_slot() {
    static std::shared_ptr<spdlog::logger> logger;
    return logger;
}

/// Set by init(): lines go to journald natively (JOURNAL_STREAM is our stderr).
bool& to_journal() {
    static bool journal = false;
    return journal;
}

int syslog_priority(spdlog::level::level_enum lvl) {
    switch (lvl) {
        case spdlog::level::trace:
        case spdlog::level::debug:
            return 7;
        case spdlog::level::info:
            return 6;
        case spdlog::level::warn:
            return 4;
        case spdlog::level::err:
            return 3;
        default:
            return 2;
    }
}

/// A journal field name: A-Z, 0-9 and '_', not starting with '_' or a digit, at most 64 bytes.
std::string journal_name(std::string_view key) {
    std::string name;
    for (char c : key) {
        if (c >= 'a' && c <= 'z') {
            name.push_back(static_cast<char>(c - 'a' + 'A'));
        } else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') {
            name.push_back(c);
        } else {
            return "";
        }
    }
    if (name.empty() || name.size() > 64 || name[0] == '_' || (name[0] >= '0' && name[0] <= '9')) {
        return "";
    }
    return name;
}

constexpr auto flush_interval = std::chrono::milliseconds(250);

/// Flushes the logger every flush_interval until the process ends (spdlog 1.10's own
/// flush_every counts whole seconds). Lines are written to a buffered stderr: one write(2) per
/// batch of lines instead of one per line, under the sink's lock.
class flusher {
  public:
    flusher()
        : thread_([this](const std::stop_token& stop) {
              std::unique_lock lock(mutex_);
              while (!wake_.wait_for(lock, stop, flush_interval, [] { return false; })) {
                  if (stop.stop_requested()) {
                      return;
                  }
                  lock.unlock();
                  flush();
                  lock.lock();
              }
          }) {}

  private:
    std::mutex mutex_;
    std::condition_variable_any wake_;
    std::jthread thread_;  // last: stopped and joined first
};

void start_buffering() {
    static std::once_flag once;
    std::call_once(once, [] {
        static char buffer[64 * 1024];
        std::setvbuf(stderr, buffer, _IOFBF, sizeof buffer);
        static flusher every_quarter_second;
    });
}

spdlog::level::level_enum parse_level(std::string_view name) {
    for (int i = spdlog::level::trace; i < spdlog::level::n_levels; ++i) {
        auto lvl = static_cast<spdlog::level::level_enum>(i);
        auto text = spdlog::level::to_string_view(lvl);
        if (std::string_view(text.data(), text.size()) == name) {
            return lvl;
        }
    }
    if (name == "warn" || name == "warning") {
        return spdlog::level::warn;
    }
    if (name == "error") {
        return spdlog::level::err;
    }
    throw std::invalid_argument("unknown log level");
}

std::string_view level_name(spdlog::level::level_enum lvl) {
    switch (lvl) {
        case spdlog::level::trace:
            return "trace";
        case spdlog::level::debug:
            return "debug";
        case spdlog::level::info:
            return "info";
        case spdlog::level::warn:
            return "warn";
        case spdlog::level::err:
            return "error";
        case spdlog::level::critical:
            return "critical";
        default:
            return "off";
    }
}

}  // namespace

bool stderr_is_journal(const char* journal_stream) noexcept {
    if (journal_stream == nullptr) {
        return false;
    }
    unsigned long long device = 0;
    unsigned long long inode = 0;
    if (std::sscanf(journal_stream, "%llu:%llu", &device, &inode) != 2) {
        return false;
    }
    struct stat st {};
    return ::fstat(STDERR_FILENO, &st) == 0 && st.st_dev == device && st.st_ino == inode;
}

std::vector<std::string> journal_fields(std::chrono::system_clock::time_point time,
                                        spdlog::level::level_enum lvl, std::string_view message,
                                        std::initializer_list<field> fields) {
    std::vector<std::string> out;
    out.reserve(3 + fields.size());
    out.push_back("MESSAGE=" + format_line(time, lvl, message, fields));
    out.push_back("PRIORITY=" + std::to_string(syslog_priority(lvl)));
    out.emplace_back("SYSLOG_IDENTIFIER=billpayd");
    for (const auto& f : fields) {
        auto name = journal_name(f.key);
        if (name.empty() || name == "MESSAGE" || name == "PRIORITY" ||
            name == "SYSLOG_IDENTIFIER") {
            continue;
        }
        const auto value = f.value.is_string() ? std::string(f.value.get_string())
                                               : boost::json::serialize(f.value);
        out.push_back(name + "=" + scrub_card_numbers(value));
    }
    return out;
}

void init(std::string_view level) {
    auto lvl = parse_level(level);
    // libsystemd drops what it cannot send when journald's socket is missing: then stderr.
    to_journal() = stderr_is_journal(std::getenv("JOURNAL_STREAM")) &&
                   ::access("/run/systemd/journal/socket", W_OK) == 0;
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto logger = std::make_shared<spdlog::logger>("billpay", sink);
    logger->set_pattern("%v");  // the line is already complete JSON
    logger->set_level(lvl);
    // Warnings and errors reach journald at once; the rest within flush_interval.
    logger->flush_on(spdlog::level::warn);
    logger_slot() = std::move(logger);
    start_buffering();
}

void flush() noexcept {
    try {
        if (auto& logger = logger_slot()) {
            logger->flush();
        }
    } catch (...) {
        // A broken stderr: nowhere left to say so.
    }
}

void set_level(std::string_view level) {
    auto lvl = parse_level(level);
    if (auto& logger = logger_slot()) {
        logger->set_level(lvl);
    }
}

bool enabled(spdlog::level::level_enum lvl) {
    auto& logger = logger_slot();
    return logger && logger->should_log(lvl);
}

std::string format_line(std::chrono::system_clock::time_point time, spdlog::level::level_enum lvl,
                        std::string_view message, std::initializer_list<field> fields) {
    boost::json::object line;
    line.reserve(3 + fields.size());
    line["time"] = model::rfc3339_utc(time);
    line["level"] = level_name(lvl);
    line["message"] = message;
    for (const auto& f : fields) {
        // A field may not overwrite the line's own time, level or message.
        bool reserved = f.key == "time" || f.key == "level" || f.key == "message";
        line[reserved ? "field_" + std::string(f.key) : std::string(f.key)] = f.value;
    }
    return scrub_card_numbers(boost::json::serialize(line));
}

void write(spdlog::level::level_enum lvl, std::string_view message,
           std::initializer_list<field> fields) noexcept {
    try {
        auto& logger = logger_slot();
        if (!logger) {
            init("info");
        }
        if (!logger->should_log(lvl)) {
            return;
        }
        if (to_journal()) {
            // journalctl -u billpayd PAYMENT_ID=pay_… finds a payment's story.
            auto entry = journal_fields(std::chrono::system_clock::now(), lvl, message, fields);
            std::vector<iovec> parts;
            parts.reserve(entry.size());
            for (auto& e : entry) {
                parts.push_back(iovec{e.data(), e.size()});
            }
            if (sd_journal_sendv(parts.data(), static_cast<int>(parts.size())) >= 0) {
                return;
            }
            // The journal refused it: the line goes to stderr (the journal's stream) instead.
        }
        auto line = format_line(std::chrono::system_clock::now(), lvl, message, fields);
        logger->log(lvl, spdlog::string_view_t(line.data(), line.size()));
    } catch (...) {
        // Out of memory or a broken stderr: nothing sensible is left to do with one line.
    }
}

}  // namespace billpay::logging
