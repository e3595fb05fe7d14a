#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <exception>
#include <string_view>

namespace billpay::store {

/// What can go wrong in the store, in its own terms: no libpqxx type or exception leaves store/.
/// Every repository call above the store returns `store::result<T>`; PostgreSQL's answers
/// (SQLSTATEs, broken connections) are turned into these at the store's edge.
enum class error {
    unavailable = 1,   // PostgreSQL could not be reached, the connection broke, or it timed out
    busy,              // the job waited in the store's queue past database.queue_timeout_ms
    not_found,         // the row the call names does not exist
    conflict,          // a constraint or a concurrent change refused the write
    invalid_argument,  // PostgreSQL refused a value (a malformed time, an unknown cursor)
    lease_lost,        // the idempotency key is no longer this request's: it may not write
    internal,          // anything else; logged where it happened
};

[[nodiscard]] std::string_view to_string(error e) noexcept;

template <class T>
using result = boost::system::result<T, error>;

/// For result::value() on an error (a caller that did not look): throws store::failure.
[[noreturn]] void throw_exception_from_error(const error& e, const boost::source_location& loc);

/// What throw_exception_from_error throws; the store's own code uses it too, and the job
/// runner turns it back into the error value.
class failure : public std::exception {
  public:
    explicit failure(error e) noexcept : error_(e) {}
    [[nodiscard]] const char* what() const noexcept override;
    [[nodiscard]] error code() const noexcept { return error_; }

  private:
    error error_;
};

/// The store error an exception from a job stands for (broken connection, SQLSTATE class,
/// store::failure, …). Logs what it does not know as `internal`.
error error_of(std::exception_ptr e) noexcept;

}  // namespace billpay::store
