#pragma once

#include <string>

namespace billpay::daemon {

/// A new request id, "req_" and 26 base32 characters of RAND_bytes: unique enough to find one
/// request in the logs of every billpayd instance, and unguessable.
std::string new_request_id();

}  // namespace billpay::daemon
