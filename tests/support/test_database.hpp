#pragma once

#include <string>

namespace billpay::test {

/// The DSN of the PostgreSQL that scripts/test started (BILLPAY_TEST_DSN). Fails the calling
/// test loudly when it is not set: a database test that silently skips proves nothing.
std::string admin_dsn();

/// A database of its own for one test, created from admin_dsn() and dropped at the end, so
/// tests can run in parallel against one PostgreSQL server.
class test_database {
  public:
    test_database();
    ~test_database();
    test_database(const test_database&) = delete;
    test_database& operator=(const test_database&) = delete;

    [[nodiscard]] const std::string& name() const { return name_; }
    /// A libpq connection string for this database.
    [[nodiscard]] const std::string& dsn() const { return dsn_; }

  private:
    std::string name_;
    std::string dsn_;
};

}  // namespace billpay::test
