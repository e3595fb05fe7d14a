#pragma once

#include <string>
#include <string_view>

namespace billpay::model {

/// A new random id: `prefix` + "_" + 26 lower-case base32 characters from 128 bits of
/// RAND_bytes. Prefixes say what the id names: pay (payment), pm (payment method), ref
/// (refund), rcpt (receipt), req (request). Unguessable, so knowing one id tells nothing of
/// another.
std::string new_id(std::string_view prefix);

/// The id a request under an idempotency key always gets: `prefix` + "_" + 26 base32
/// characters of SHA-256(`seed`), where the seed names the key and its scope (the client). A
/// retry whose first answer was lost finds the record it may have made instead of making a
/// second; as unguessable as the key it comes from.
std::string id_for_key(std::string_view prefix, std::string_view seed);

/// A short confirmation code a customer can read over the phone: 10 characters of Crockford
/// base32 (no I, L, O, U), grouped "XXXXX-XXXXX".
std::string new_confirmation_code();

}  // namespace billpay::model
