#pragma once

#include <memory>

#include "config/settings.hpp"
#include "gateway_adapters/gateway.hpp"
#include "store/database.hpp"

namespace billpay::gateway {

/// The adapter for the configured processor (config `gateway`), chosen by std::visit over the
/// closed set of processor settings. `database` is for adapters that keep a ledger of their own
/// (the simulator).
std::unique_ptr<gateway> make_gateway(const config::processor_settings& settings,
                                      store::database& database);

}  // namespace billpay::gateway
