#pragma once

#include <string>
#include <string_view>

namespace billpay::model {

/// A new random id: `prefix` + "_" + 26 lower-case base32 characters from 128 bits of
/// RAND_bytes. Prefixes say what the id names: pay (payment), pm (payment method), ref
/// (refund), rcpt (receipt), req (request). Unguessable, so knowing one id tells nothing of
/// another.
std::string new_id(std::string_view prefix);

/// A short confirmation code a customer can read over the phone: 10 characters of Crockford
/// base32 (no I, L, O, U), grouped "XXXXX-XXXXX".
std::string new_confirmation_code();

}  // namespace billpay::model
