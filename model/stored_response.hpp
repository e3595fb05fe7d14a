#pragma once

#include <string>

namespace billpay::model {

/// An API answer as an Idempotency-Key keeps it: replayed byte for byte for a repeated key.
/// The API renders it; the use case has it written in the transaction of the work it answers.
struct stored_response {
    int status = 0;
    std::string body;
};

}  // namespace billpay::model
