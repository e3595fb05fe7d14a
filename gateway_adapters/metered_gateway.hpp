#pragma once

#include <memory>

#include "gateway_adapters/gateway.hpp"

namespace billpay::gateway {

/// `inner`, with every call to the processor timed into
/// billpay_processor_call_duration_seconds{operation, outcome} (metrics/metrics.hpp). billpayd
/// wraps its processor in it; what the processor answers passes through unchanged.
std::unique_ptr<gateway> metered(std::unique_ptr<gateway> inner);

}  // namespace billpay::gateway
