#include "logging/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <ctime>
#include <memory>
#include <stdexcept>

#include "logging/scrubber.hpp"
#include "model/time.hpp"

namespace billpay::logging {
namespace {

std::shared_ptr<spdlog::logger>& logger_slot() {
    static std::shared_ptr<spdlog::logger> logger;
    return logger;
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

void init(std::string_view level) {
    auto lvl = parse_level(level);
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto logger = std::make_shared<spdlog::logger>("billpay", sink);
    logger->set_pattern("%v");  // the line is already complete JSON
    logger->set_level(lvl);
    logger->flush_on(spdlog::level::trace);  // journald wants whole lines now, not at exit
    logger_slot() = std::move(logger);
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
        auto line = format_line(std::chrono::system_clock::now(), lvl, message, fields);
        logger->log(lvl, spdlog::string_view_t(line.data(), line.size()));
    } catch (...) {
        // Out of memory or a broken stderr: nothing sensible is left to do with one line.
    }
}

}  // namespace billpay::logging
