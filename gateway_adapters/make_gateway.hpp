#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>

#include "config/settings.hpp"
#include "gateway_adapters/gateway.hpp"

namespace billpay::gateway {

/// The adapter for the configured processor (config `gateway`), chosen by std::visit over the
/// closed set of processor settings. `executor` runs the HTTPS clients of the adapters that
/// have one.
std::unique_ptr<gateway> make_gateway(const config::processor_settings& settings,
                                      boost::asio::any_io_executor executor);

}  // namespace billpay::gateway
