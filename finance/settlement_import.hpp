#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <variant>
#include <vector>

#include "config/settings.hpp"
#include "finance/refunds.hpp"
#include "finance/settlement_files.hpp"
#include "gateway_adapters/gateway.hpp"
#include "store/settlements.hpp"

namespace billpay::finance {

/// What to import (billpayctl settlements import).
struct import_order {
    std::string processor;  // stripe, authorizenet, or any processor's name with format generic
    std::string format;     // stripe (itemized report), generic, authorizenet; "" = by processor
    std::string file;       // the CSV file (not for authorizenet)
    std::string content;    // the file's content, read by the caller
    std::string from;       // authorizenet: settlement dates to pull (YYYY-MM-DD)
    std::string to;
    std::string reason;
};

enum class import_status {
    imported,
    already_imported,  // the same content before: nothing changed
    nothing_settled,   // Authorize.Net settled nothing in the range: nothing imported
    refused,           // a bad line or a bad range: `problems` or `message` says what
    processor_failed,  // Authorize.Net could not be asked: `message`
    database_unavailable,
};

struct import_outcome {
    import_status status = import_status::database_unavailable;
    std::string format;  // the format used
    store::import_result result;
    std::vector<file_problem> problems;
    std::string message;
};

/// Reads (or, for Authorize.Net, pulls through `processor`'s settlements()) a settlement report
/// and imports it, keyed by its content's hash, with its audit row (settlements.imported). Any
/// bad line refuses the whole file. `processor` is needed only to pull.
boost::asio::awaitable<import_outcome> import_settlements(const config::settings& settings,
                                                          store::settlement_store& records,
                                                          const import_order& order,
                                                          const model::actor& who,
                                                          gateway::gateway* processor = nullptr);

/// What `processor` settled between two days, as settlement lines (or what went wrong).
boost::asio::awaitable<std::variant<std::vector<store::settlement_line>, std::string>>
pull_settlements(gateway::gateway& processor, model::currency unit, const std::string& from,
                 const std::string& to, gateway::deadline by);

}  // namespace billpay::finance
