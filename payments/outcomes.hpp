#pragma once

#include "gateway_adapters/gateway.hpp"
#include "model/payment.hpp"

namespace billpay::payments {

/// The one reading of a processor's answer about a charge, for the request that made it and for
/// the recovery worker that looked it up alike:
///   approved -> succeeded, with the processor's reference
///   declined -> declined, with the decline code (generic_decline when none was given)
///   failed   -> failed: nothing was charged (the processor's own word, or a request that never
///               left billpayd), with its code (processing_error when none was given)
///   unknown  -> pending: not known yet; recovery asks again, and never concludes "failed" from
///               silence
/// `updated_at` is left for the caller to stamp.
model::payment_outcome outcome_of(const gateway::charge_result& answer);

}  // namespace billpay::payments
