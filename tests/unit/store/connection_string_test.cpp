#include <gtest/gtest.h>

#include "store/database.hpp"

namespace {

using billpay::store::connection_string;
using namespace std::chrono_literals;

TEST(ConnectionString, AddsTimeoutsAndANameToKeyValueStrings) {
    EXPECT_EQ(connection_string("host=/tmp dbname=billpay", 5000ms, 10000ms).reveal(),
              "host=/tmp dbname=billpay connect_timeout=5 application_name=billpayd"
              " options='-c statement_timeout=10000'");
}

TEST(ConnectionString, AddsThemToUris) {
    EXPECT_EQ(connection_string("postgresql://db.internal/billpay", 2500ms, 500ms).reveal(),
              "postgresql://db.internal/billpay?connect_timeout=3&application_name=billpayd"
              "&options=-c%20statement_timeout%3D500");
    EXPECT_EQ(
        connection_string("postgres://db/billpay?sslmode=verify-full", 1000ms, 500ms).reveal(),
        "postgres://db/billpay?sslmode=verify-full&connect_timeout=2"
        "&application_name=billpayd&options=-c%20statement_timeout%3D500");
}

TEST(ConnectionString, KeepsWhatTheOperatorSet) {
    EXPECT_EQ(connection_string("host=db connect_timeout=30 application_name=x options=-cfoo=1",
                                5000ms, 10000ms)
                  .reveal(),
              "host=db connect_timeout=30 application_name=x options=-cfoo=1");
}

TEST(ConnectionString, KeepsEveryHostOfAFailoverPair) {
    // docs/operations.md: both servers, and libpq takes the one that accepts writes.
    EXPECT_EQ(connection_string("host=db-a,db-b port=5432,5432 dbname=billpay"
                                " target_session_attrs=read-write",
                                2000ms, 10000ms)
                  .reveal(),
              "host=db-a,db-b port=5432,5432 dbname=billpay target_session_attrs=read-write"
              " connect_timeout=2 application_name=billpayd options='-c statement_timeout=10000'");
    EXPECT_EQ(connection_string("postgresql://db-a:5432,db-b:5432/billpay"
                                "?target_session_attrs=read-write",
                                2000ms, 10000ms)
                  .reveal(),
              "postgresql://db-a:5432,db-b:5432/billpay?target_session_attrs=read-write"
              "&connect_timeout=2&application_name=billpayd"
              "&options=-c%20statement_timeout%3D10000");
}

}  // namespace
