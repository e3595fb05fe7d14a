// The day a schedule run charges when it is not given one: the utility's day at that instant
// (payments.time_zone), on either side of midnight UTC and of each change of the clocks.
#include "store/schedule_runs.hpp"

#include <gtest/gtest.h>

#include "store/database.hpp"
#include "store/migrations.hpp"
#include "tests/support/run_to_end.hpp"
#include "tests/support/test_database.hpp"

namespace {

using namespace billpay;
using namespace std::chrono_literals;

TEST(ScheduleRunDay, IsTheUtilitysDayAcrossDaylightSavingAndMidnightUtc) {
    test::test_database db;
    {
        pqxx::connection conn(db.dsn());
        store::migrate(conn);
    }
    store::database pool({config::secret(db.dsn()), 1, 2000ms});
    store::schedule_run_records runs(pool);
    struct instant {
        const char* at;
        const char* day;
    };
    // Daylight saving begins 2027-03-14 and ends 2027-11-07 in America/Los_Angeles.
    for (const auto& [at, day] : std::initializer_list<instant>{
             {"2027-03-14T07:59:59Z", "2027-03-13"},  // 23:59:59 PST
             {"2027-03-14T08:00:00Z", "2027-03-14"},  // midnight PST: the short day begins
             {"2027-03-15T06:59:59Z", "2027-03-14"},  // 23:59:59 PDT: it was 23 hours long
             {"2027-03-15T07:00:00Z", "2027-03-15"},
             {"2027-11-07T06:59:59Z", "2027-11-06"},  // 23:59:59 PDT
             {"2027-11-07T07:00:00Z", "2027-11-07"},  // midnight PDT: the long day begins
             {"2027-11-08T07:59:59Z", "2027-11-07"},  // 23:59:59 PST: it was 25 hours long
             {"2027-11-08T08:00:00Z", "2027-11-08"},
             {"2026-12-08T00:30:00Z", "2026-12-07"},  // after midnight UTC, still yesterday
         }) {
        auto local = test::run_to_end(runs.local_day("America/Los_Angeles", at));
        ASSERT_TRUE(local.has_value()) << at;
        EXPECT_EQ(*local, day) << at;
    }
    auto utc = test::run_to_end(runs.local_day("UTC", "2026-12-08T00:30:00Z"));
    ASSERT_TRUE(utc.has_value());
    EXPECT_EQ(*utc, "2026-12-08");
}

}  // namespace
