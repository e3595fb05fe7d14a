#pragma once

#include <boost/asio/awaitable.hpp>
#include <pqxx/connection>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "store/errors.hpp"

namespace billpay::store {

class database;

/// One versioned schema change: store/migrations/NNNN_name.sql, compiled into the binary.
struct migration {
    int version;
    std::string_view name;
    std::string_view sql;
};

/// Every migration this binary carries, in version order.
std::span<const migration> built_in_migrations();

/// The schema version this binary needs: the highest built-in migration.
int required_schema_version();

/// The highest version recorded in the database, 0 when it has never been migrated.
int current_schema_version(pqxx::connection& conn);

struct migration_report {
    int from_version = 0;
    int to_version = 0;
    std::vector<int> applied;
};

/// Thrown when the database does not match what this binary knows: a recorded migration whose
/// text has changed since it was applied, or versions out of order.
class migration_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// Applies every migration newer than the database, each in its own transaction, under an
/// advisory lock so that two processes migrating at once apply each migration once. Applying
/// them again is a no-op. Each applied migration is recorded in `schema_migrations` with its
/// SHA-256, and a recorded migration whose text has since changed is refused.
migration_report migrate(pqxx::connection& conn,
                         std::span<const migration> migrations = built_in_migrations());

/// The schema, for the folders above the store.
class schema {
  public:
    explicit schema(database& db) : db_(db) {}

    boost::asio::awaitable<result<int>> current_version();
    /// migrate() above; a migration_error comes back as error::conflict, logged with its text.
    boost::asio::awaitable<result<migration_report>> migrate();

  private:
    database& db_;
};

}  // namespace billpay::store
