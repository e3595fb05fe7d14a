#include "model/time.hpp"

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

}  // namespace billpay::model
