#pragma once

#include <string>

#include "tests/support/temp_dir.hpp"

namespace billpay::test {

/// PostgreSQL as docs/operations.md deploys it for failover, on this machine: a primary and a
/// streaming standby made from it with pg_basebackup (scripts/pg-cluster), the standby
/// synchronous (`synchronous_standby_names = 'FIRST 1 (standby)'`, `synchronous_commit = on`):
/// a commit is acknowledged only once the standby has it on disk. Both are stopped when the
/// object goes.
class replicated_postgres {
  public:
    /// Builds both, creates the database `dbname` on the primary and waits until the standby
    /// replicates synchronously.
    explicit replicated_postgres(const std::string& dbname);
    ~replicated_postgres();
    replicated_postgres(const replicated_postgres&) = delete;
    replicated_postgres& operator=(const replicated_postgres&) = delete;

    /// What billpayd is given: both servers, and libpq picks the one that takes writes.
    [[nodiscard]] std::string dsn() const;
    [[nodiscard]] std::string primary_dsn() const;
    [[nodiscard]] std::string standby_dsn() const;

    /// The primary's end, as a crash would (`pg_ctl stop -m immediate`: no checkpoint, every
    /// connection cut).
    void crash_primary();
    /// The primary's end as an operator fences it (`pg_ctl stop -m fast`).
    void stop_primary();
    /// `pg_ctl promote` on the standby; returns once it takes writes.
    void promote_standby();

  private:
    void build();
    void stop_both() noexcept;
    void run(const std::string& arguments) const;

    std::string dbname_;
    std::string script_;
    temp_dir primary_;
    temp_dir standby_;
};

}  // namespace billpay::test
