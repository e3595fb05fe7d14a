#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gateway_adapters/gateway.hpp"
#include "model/actor.hpp"
#include "store/errors.hpp"
#include "store/privacy.hpp"

namespace billpay::privacy {

/// How `billpayctl processor purge-profiles` runs.
struct purge_options {
    bool dry_run = false;
    /// How long a request may take from making its token to recording it (the gateway's charge
    /// window): what is in use is read only after it has passed since the processor's list.
    std::chrono::milliseconds charge_window{0};
    /// Each processor call's deadline.
    std::chrono::milliseconds timeout{0};
};

/// What a purge did (or, dry run, would do) with every customer record the processor listed.
struct purge_report {
    /// Set when the processor's list could not be had: nothing was deleted.
    std::optional<std::string> not_listed;
    /// Set when what is in use could not be read: nothing was deleted.
    std::optional<store::error> in_use_unknown;
    /// Set when the run's audit row could not be written (after its deletions).
    std::optional<store::error> audit_failure;
    std::string processor;
    std::size_t listed = 0;
    std::vector<std::string> deleted;  // deleted, or in a dry run would be (if billpayd made it)
    std::int64_t in_use = 0;           // kept: a live token names them
    std::int64_t foreign = 0;          // another system's, or gone already
    std::vector<std::pair<std::string, std::string>> failed;  // id, the processor's message
};

/// The privacy policy's "only needed data is kept", at the processor: deletes every customer
/// record billpayd made there that no token in use names (live saved cards', pending payments',
/// those of recent payments). A request may have made its token just before the list and not
/// recorded it yet, so the tokens in use are read after the charge window has passed since the
/// list. A record the processor says billpayd did not make is left alone; one whose deletion
/// has an unknown outcome is named in `failed` (a later run tries again). The run is recorded
/// (processor.profiles_purged, with its counts) unless it is a dry run.
boost::asio::awaitable<purge_report> purge_processor_profiles(gateway::gateway& processor,
                                                              store::privacy_store& records,
                                                              const purge_options& options,
                                                              const model::actor& by);

}  // namespace billpay::privacy
