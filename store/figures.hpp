#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <pqxx/connection>

#include "store/errors.hpp"
#include "store/outbox.hpp"

namespace billpay::store {

class database;

/// What an operator watches in the records, read when /metrics is scraped (all through
/// partial indexes of unfinished rows: cheap however large the tables grow).
struct figures {
    std::int64_t payments_pending = 0;
    double oldest_pending_payment_age_seconds = 0;
    std::int64_t payments_requiring_review = 0;  // pending ones recovery gave up on
    std::int64_t refunds_pending = 0;
    std::int64_t refunds_requiring_review = 0;
    outbox_stats outbox;
};

figures read_figures(pqxx::connection& conn);

/// The same, for the daemon.
class operating_figures {
  public:
    explicit operating_figures(database& db) : db_(db) {}
    boost::asio::awaitable<result<figures>> read();

  private:
    database& db_;
};

}  // namespace billpay::store
