// The daily report's HTML page, opened in headless Chromium (Debian's chromium): a screenshot
// must show the chart's bars (one per day with payments, in the payments' colour; one for the
// day with a refund, in the refunds' colour) and the tables' grid.
#include <gmock/gmock.h>
#include <png.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <set>

#include "tests/e2e/payments_fixture.hpp"

namespace {

using namespace billpay::test;
namespace json = boost::json;

struct rgba_image {
    unsigned width = 0;
    unsigned height = 0;
    std::vector<unsigned char> pixels;  // RGBA rows
    [[nodiscard]] bool is(unsigned x, unsigned y, unsigned rgb) const {
        const auto* p = &pixels[(static_cast<std::size_t>(y) * width + x) * 4];
        return p[0] == ((rgb >> 16) & 0xff) && p[1] == ((rgb >> 8) & 0xff) && p[2] == (rgb & 0xff);
    }
};

rgba_image read_png(const std::filesystem::path& file) {
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    rgba_image out;
    if (!png_image_begin_read_from_file(&image, file.c_str())) {
        return out;
    }
    image.format = PNG_FORMAT_RGBA;
    out.width = image.width;
    out.height = image.height;
    out.pixels.resize(PNG_IMAGE_SIZE(image));
    if (!png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr)) {
        out = {};
    }
    png_image_free(&image);
    return out;
}

/// Runs of a colour along one row: the bars standing on the chart's axis, seen just above it.
int runs_in_row(const rgba_image& img, unsigned y, unsigned rgb) {
    int runs = 0;
    bool inside = false;
    for (unsigned x = 0; x < img.width; ++x) {
        bool here = img.is(x, y, rgb);
        runs += here && !inside;
        inside = here;
    }
    return runs;
}

/// The row with the most pixels of a colour (the chart's axis line).
unsigned row_with_most(const rgba_image& img, unsigned rgb) {
    unsigned best = 0;
    unsigned best_count = 0;
    for (unsigned y = 0; y < img.height; ++y) {
        unsigned n = 0;
        for (unsigned x = 0; x < img.width; ++x) {
            n += img.is(x, y, rgb);
        }
        if (n > best_count) {
            best = y;
            best_count = n;
        }
    }
    return best;
}

std::size_t pixels_of(const rgba_image& img, unsigned rgb) {
    std::size_t n = 0;
    for (unsigned y = 0; y < img.height; ++y) {
        for (unsigned x = 0; x < img.width; ++x) {
            n += img.is(x, y, rgb);
        }
    }
    return n;
}

class ReportInChromium : public payments_fixture {};

TEST_F(ReportInChromium, TheHtmlReportRendersItsChartAndTables) {
    const std::filesystem::path chromium = "/usr/bin/chromium";
    if (!std::filesystem::exists(chromium)) {
        GTEST_SKIP() << "Debian's chromium is not installed (scripts/install-deps installs it)";
    }
    start();
    auto c = client();
    // Payments on four days (three moved back in the books), and a refund on the last.
    std::vector<std::string> ids;
    for (int day = 0; day < 4; ++day) {
        auto res =
            pay(c, payment_body("4242424242424242", "d" + std::to_string(day), 10000 * (day + 1)),
                "k" + std::to_string(day));
        ASSERT_EQ(res.result(), http::status::created) << res.body();
        ids.emplace_back(json_of(res).at("id").as_string());
    }
    auto refunded = post(c, "/v1/payments/" + ids[0] + "/refunds",
                         json::object{{"amount", 4000}, {"reason", "duplicate"}}, finance_key, "r");
    ASSERT_EQ(refunded.result(), http::status::created) << refunded.body();
    pqxx::connection conn(database.dsn());
    std::string from;
    std::string to;
    {
        pqxx::work tx(conn);
        for (int day = 1; day < 4; ++day) {
            tx.exec_params(
                "UPDATE payments SET created_at = now() - $2::int * interval '1 day'"
                " WHERE id = $1",
                ids[day], day);
        }
        auto r = tx.exec(
            "SELECT to_char((now() AT TIME ZONE 'America/Chicago')::date - 3,"
            " 'YYYY-MM-DD'), to_char((now() AT TIME ZONE 'America/Chicago')::date,"
            " 'YYYY-MM-DD')");
        from = r[0][0].as<std::string>();
        to = r[0][1].as<std::string>();
        tx.commit();
    }
    auto html = dir / "report.html";
    ASSERT_EQ(run_command(built_program("billpayctl").string() + " --config " +
                          (dir / "billpayd.yaml").string() + " report daily --format html --from " +
                          from + " --to " + to + " -o " + html.string()),
              0);

    auto shot = dir / "report.png";
    auto profile = dir / "chromium-profile";
    std::string command = chromium.string() +
                          " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                          " --disable-background-networking --disable-component-update"
                          " --disable-sync --hide-scrollbars --user-data-dir=" +
                          profile.string() +
                          " --window-size=1000,900 --screenshot=" + shot.string() + " file://" +
                          html.string() + " >/dev/null 2>&1";
    ASSERT_EQ(run_command("timeout 60 " + command), 0);
    auto img = read_png(shot);
    ASSERT_EQ(img.width, 1000u);
    ASSERT_EQ(img.height, 900u);

    // The chart: its axis is drawn, and on it stand four payment bars and one refund bar.
    unsigned axis = row_with_most(img, 0x333333);
    ASSERT_GT(axis, 2u);
    EXPECT_EQ(runs_in_row(img, axis - 2, 0x1f6fd1), 4);
    EXPECT_EQ(runs_in_row(img, axis - 2, 0xd1541f), 1);
    // Bars are drawn to scale: 400.00 three days ago is four times today's 100.00.
    std::vector<unsigned> heights;
    for (unsigned x = 1; x < img.width; ++x) {
        if (img.is(x, axis - 2, 0x1f6fd1) && !img.is(x - 1, axis - 2, 0x1f6fd1)) {
            unsigned h = 0;
            for (unsigned y = axis - 1; y > 0 && img.is(x, y, 0x1f6fd1); --y) {
                ++h;
            }
            heights.push_back(h);
        }
    }
    ASSERT_EQ(heights.size(), 4u);
    EXPECT_GT(heights.front(), 100u);
    EXPECT_EQ(heights.front(), 4 * heights.back());
    // The tables: their grid lines and header shading are drawn.
    EXPECT_GT(pixels_of(img, 0xbbbbbb), 2000u);
    EXPECT_GT(pixels_of(img, 0xeeeeee), 2000u);
}

TEST_F(ReportInChromium, AWeekWithQuietDaysShowsEveryDayATickedAxisAndTheTotalsOfTheJson) {
    const std::filesystem::path chromium = "/usr/bin/chromium";
    if (!std::filesystem::exists(chromium)) {
        GTEST_SKIP() << "Debian's chromium is not installed (scripts/install-deps installs it)";
    }
    start();
    auto c = client();
    // Payments today (two) and three days ago; the other four days of the week are quiet.
    std::vector<std::string> ids;
    for (int n = 0; n < 3; ++n) {
        auto res = pay(c, payment_body("4242424242424242", "w" + std::to_string(n), 12550 + n),
                       "w" + std::to_string(n));
        ASSERT_EQ(res.result(), http::status::created) << res.body();
        ids.emplace_back(json_of(res).at("id").as_string());
    }
    exec("UPDATE payments SET created_at = now() - interval '3 days' WHERE id = '" + ids[2] + "'");
    const auto from = local_day(-6);
    const auto to = local_day(0);
    auto html = dir / "week.html";
    ASSERT_EQ(run_command(ctl() + " report daily --format html --from " + from + " --to " + to +
                          " -o " + html.string()),
              0);
    auto report_json =
        capture_command(ctl() + " report daily --format json --from " + from + " --to " + to);
    const auto report = json::parse(report_json);
    const auto& totals = report.at("totals").as_array();
    ASSERT_EQ(totals.size(), 1U);
    EXPECT_EQ(totals[0].at("payments_count"), 3);
    EXPECT_EQ(totals[0].at("payments"), 12550 + 12551 + 12552);

    const std::string browser = "timeout 60 " + chromium.string() +
                                " --headless --no-sandbox --disable-gpu --disable-quic"
                                " --no-first-run --disable-background-networking"
                                " --disable-component-update --disable-sync --hide-scrollbars"
                                " --user-data-dir=" +
                                (dir / "chromium-week").string();
    // What Chromium made of the page: every day of the week on the axis, ticks in dollars, and
    // a total row with the JSON report's figures.
    const auto dom =
        capture_command(browser + " --dump-dom file://" + html.string() + " 2>/dev/null");
    std::size_t labels = 0;
    for (auto at = dom.find("class=\"day\""); at != std::string::npos;
         at = dom.find("class=\"day\"", at + 1)) {
        ++labels;
    }
    EXPECT_EQ(labels, 7U) << "every day of the range, quiet ones included";
    EXPECT_NE(dom.find(">" + from.substr(5) + "</text>"), std::string::npos);
    EXPECT_NE(dom.find(">" + local_day(-1).substr(5) + "</text>"), std::string::npos);
    EXPECT_NE(dom.find("class=\"tick\""), std::string::npos);
    EXPECT_NE(dom.find(">$0.00</text>"), std::string::npos);
    EXPECT_NE(dom.find(">$100.00</text>"), std::string::npos);
    EXPECT_NE(dom.find("Total USD"), std::string::npos);
    EXPECT_NE(dom.find(">376.53</td>"), std::string::npos) << "the JSON's payments total";
    EXPECT_NE(dom.find("Days in America/Chicago"), std::string::npos);

    // And in the picture: two days with bars, and the gridlines of the ticks.
    auto shot = dir / "week.png";
    ASSERT_EQ(run_command(browser + " --window-size=1000,900 --screenshot=" + shot.string() +
                          " file://" + html.string() + " >/dev/null 2>&1"),
              0);
    auto img = read_png(shot);
    ASSERT_EQ(img.width, 1000u);
    unsigned axis = row_with_most(img, 0x333333);
    ASSERT_GT(axis, 2u);
    EXPECT_EQ(runs_in_row(img, axis - 2, 0x1f6fd1), 2);
    EXPECT_GT(pixels_of(img, 0xdddddd), 1000u);
}

}  // namespace
