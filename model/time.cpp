#include "model/time.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace billpay::model {

std::string rfc3339_utc(std::chrono::system_clock::time_point time) {
    using namespace std::chrono;
    auto secs = time_point_cast<seconds>(time);
    if (secs > time) {
        secs -= seconds(1);  // before 1970, truncation went the wrong way
    }
    auto millis = duration_cast<milliseconds>(time - secs).count();
    std::time_t t = system_clock::to_time_t(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(millis));
    return buf;
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339_utc(std::string_view text) {
    using namespace std::chrono;
    auto digits = [&](std::size_t at, std::size_t n) -> std::optional<int> {
        if (at + n > text.size()) {
            return std::nullopt;
        }
        int v = 0;
        for (std::size_t i = at; i < at + n; ++i) {
            if (text[i] < '0' || text[i] > '9') {
                return std::nullopt;
            }
            v = v * 10 + (text[i] - '0');
        }
        return v;
    };
    if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
        text[13] != ':' || text[16] != ':' || text.back() != 'Z') {
        return std::nullopt;
    }
    auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2);
    auto h = digits(11, 2), mi = digits(14, 2), s = digits(17, 2);
    if (!y || !mo || !d || !h || !mi || !s || *h > 23 || *mi > 59 || *s > 60) {
        return std::nullopt;
    }
    const year_month_day day{year(*y), month(static_cast<unsigned>(*mo)),
                             std::chrono::day(static_cast<unsigned>(*d))};
    if (!day.ok()) {
        return std::nullopt;
    }
    milliseconds fraction{0};
    std::string_view rest = text.substr(19, text.size() - 20);
    if (!rest.empty()) {
        if (rest[0] != '.' || rest.size() < 2) {
            return std::nullopt;
        }
        int scale = 100;
        for (std::size_t i = 1; i < rest.size(); ++i) {
            if (rest[i] < '0' || rest[i] > '9') {
                return std::nullopt;
            }
            fraction += milliseconds((rest[i] - '0') * scale);
            scale /= 10;
        }
    }
    return sys_days(day) + hours(*h) + minutes(*mi) + seconds(*s) + fraction;
}

std::optional<std::chrono::sys_days> parse_date(std::string_view text) {
    if (text.size() < 10 || text[4] != '-' || text[7] != '-') {
        return std::nullopt;
    }
    int y = 0;
    unsigned m = 0;
    unsigned d = 0;
    auto number = [](std::string_view part, auto& out) {
        auto r = std::from_chars(part.data(), part.data() + part.size(), out);
        return r.ec == std::errc{} && r.ptr == part.data() + part.size();
    };
    if (!number(text.substr(0, 4), y) || !number(text.substr(5, 2), m) ||
        !number(text.substr(8, 2), d)) {
        return std::nullopt;
    }
    std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m},
                                    std::chrono::day{d}};
    if (!ymd.ok()) {
        return std::nullopt;
    }
    return std::chrono::sys_days{ymd};
}

std::string format_date(std::chrono::sys_days day) {
    const std::chrono::year_month_day ymd{day};
    char out[16];
    std::snprintf(out, sizeof out, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    return out;
}

}  // namespace billpay::model
