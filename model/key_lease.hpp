#pragma once

#include <string>

namespace billpay::model {

/// A request's hold on its key: the fencing token every later write under the key names.
struct key_lease {
    std::string client_id;
    std::string key;
    std::string lease_id;
};

}  // namespace billpay::model
