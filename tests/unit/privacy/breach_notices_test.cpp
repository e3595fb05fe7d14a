// Breach notice inputs as staff hand them to billpayctl: the scope's CSV (perhaps edited in a
// spreadsheet), the notice template, and one notice per address however the address is written.
#include "privacy/breach_notices.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace {

using namespace billpay;
using ::testing::HasSubstr;

TEST(BreachRecipients, TheScopeCsvReadsBackAndBadLinesAreNamed) {
    const auto csv = privacy::scope_csv({{"1001-2002", "ada@example.org"},
                                         {"-A1", "eve@example.org"},  // formula-guarded
                                         {"7001-0001", ""}});         // retention removed it
    EXPECT_THAT(csv, HasSubstr("'-A1,eve@example.org"));
    std::string problem;
    auto read = privacy::read_recipients(csv + "\r\n", problem);
    ASSERT_TRUE(read) << problem;
    ASSERT_EQ(read->size(), 2u);  // the account without an email has no one to write to
    EXPECT_EQ((*read)[0].account_number, "1001-2002");
    EXPECT_EQ((*read)[1].account_number, "-A1");
    EXPECT_EQ((*read)[1].email, "eve@example.org");

    EXPECT_FALSE(privacy::read_recipients("account_number,email\n1,a@b.org,extra\n", problem));
    EXPECT_EQ(problem, "line 2: expected account_number,email");
    EXPECT_FALSE(privacy::read_recipients("1,not-an-address\n", problem));
    EXPECT_EQ(problem, "line 1: not an account number and an email");
}

TEST(BreachTemplate, FirstLineIsTheSubjectAndOnlyKnownPlaceholdersAreAllowed) {
    std::string problem;
    auto form = privacy::read_template("Incident {{incident_id}}\nAccounts {{account_numbers}}.\n",
                                       problem);
    ASSERT_TRUE(form) << problem;
    EXPECT_EQ(form->subject, "Incident {{incident_id}}");
    EXPECT_FALSE(privacy::read_template("Subject\nDear {{customer_name}}\n", problem));
    EXPECT_THAT(problem, HasSubstr("placeholder"));
    EXPECT_FALSE(privacy::read_template("Only a subject\n", problem));
    EXPECT_FALSE(privacy::read_template("Subject\n\xe2\x80\xaeReversed text\n", problem));
    // A line end inside a broken UTF-8 sequence does not make it whole (the fuzzer's find).
    EXPECT_FALSE(privacy::read_template("Subject\nBroken \xea\r\x9e\xb5 text\n", problem));
    EXPECT_THAT(problem, HasSubstr("UTF-8"));
    EXPECT_TRUE(privacy::read_template("Subject\r\nWindows line ends\r\n", problem));
}

TEST(BreachNotices, OneNoticePerAddressNamingEveryAccountOfIt) {
    std::string problem;
    auto form = privacy::read_template("Incident {{incident_id}}\nAccounts: {{account_numbers}}\n",
                                       problem);
    ASSERT_TRUE(form);
    auto notices = privacy::render_notices("INC-1",
                                           {{"A-1", "ann@example.org"},
                                            {"A-2", "Ann@Example.ORG"},
                                            {"B-1", "ben@example.org"},
                                            {"A-1", "ann@example.org"}},
                                           *form);
    ASSERT_EQ(notices.size(), 2u);
    auto ann = boost::json::parse(notices[0].body);
    EXPECT_EQ(ann.at("type"), "breach_notice");
    EXPECT_EQ(ann.at("incident_id"), "INC-1");
    EXPECT_EQ(ann.at("customer").at("email"), "ann@example.org");
    EXPECT_EQ(ann.at("account_numbers"), boost::json::parse(R"(["A-1", "A-2"])"));
    EXPECT_EQ(ann.at("notice").at("subject"), "Incident INC-1");
    EXPECT_EQ(ann.at("notice").at("text"), "Accounts: A-1, A-2\n");
    EXPECT_EQ(ann.at("id"), boost::json::value(notices[0].message_id));
    EXPECT_NE(notices[0].message_id, notices[1].message_id);
}

}  // namespace
