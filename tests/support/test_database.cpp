#include "tests/support/test_database.hpp"

#include <openssl/rand.h>

#include <cstdlib>
#include <pqxx/pqxx>
#include <stdexcept>

namespace billpay::test {

std::string admin_dsn() {
    const char* dsn = std::getenv("BILLPAY_TEST_DSN");
    if (!dsn || !*dsn) {
        throw std::runtime_error(
            "BILLPAY_TEST_DSN is not set: run the suite through scripts/test, or point it at a "
            "PostgreSQL where the test may create databases");
    }
    return dsn;
}

test_database::test_database() {
    unsigned char bytes[8];
    RAND_bytes(bytes, sizeof bytes);
    name_ = "billpay_test_";
    static constexpr char hex[] = "0123456789abcdef";
    for (unsigned char b : bytes) {
        name_.push_back(hex[b >> 4]);
        name_.push_back(hex[b & 0xf]);
    }
    std::string admin = admin_dsn();
    pqxx::connection conn(admin);
    pqxx::nontransaction tx(conn);
    tx.exec("CREATE DATABASE " + name_);
    // In a key=value string the last value of a key wins.
    dsn_ = admin + " dbname=" + name_;
}

test_database::~test_database() {
    try {
        pqxx::connection conn(admin_dsn());
        pqxx::nontransaction tx(conn);
        tx.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (...) {
        // The server is already gone (scripts/test stops it): nothing left to drop.
    }
}

}  // namespace billpay::test
