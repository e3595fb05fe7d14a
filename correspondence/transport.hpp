#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "store/outbox.hpp"

namespace billpay::correspondence {

/// What became of one delivery attempt.
struct delivery {
    enum class result {
        delivered,  // the correspondence system has it
        retry,      // a failure that may pass: try again later
        permanent,  // the receiver refused it for good (a 4xx other than 408/429): dead-letter
    };
    result outcome = result::retry;
    std::optional<int> http_status;
    std::string error;  // for the attempts log; never card data (messages hold none)
};

/// How messages reach the correspondence system (config `correspondence.transport`).
class transport {
  public:
    virtual ~transport() = default;
    /// Delivers a batch (at most `correspondence.concurrency` messages): one result per
    /// message, in the batch's order. Never throws: failures are results.
    virtual boost::asio::awaitable<std::vector<delivery>> deliver(
        const std::vector<store::outbox_message>& batch) = 0;
};

}  // namespace billpay::correspondence
