#include "payments/failures.hpp"

namespace billpay::payments {

std::string_view to_string(failure f) noexcept {
    switch (f) {
        case failure::card_declined:
            return "card_declined";
        case failure::processor_unavailable:
            return "processor_unavailable";
        case failure::unknown_processor_token:
            return "unknown_processor_token";
        case failure::processor_token_not_owned:
            return "processor_token_not_owned";
        case failure::too_many_cards:
            return "too_many_cards";
        case failure::store_unavailable:
            return "store_unavailable";
        case failure::store_busy:
            return "store_busy";
    }
    return "store_unavailable";
}

failure failure_of(store::error e) noexcept {
    return e == store::error::busy ? failure::store_busy : failure::store_unavailable;
}

failure failure_of(const gateway::tokenize_result& answer) noexcept {
    if (answer.result != gateway::outcome::declined) {
        return failure::processor_unavailable;
    }
    return answer.decline_code == gateway::too_many_cards ? failure::too_many_cards
                                                          : failure::card_declined;
}

failure failure_of(const gateway::token_description& answer) noexcept {
    if (answer.result != gateway::outcome::declined) {
        return failure::processor_unavailable;
    }
    if (answer.decline_code == gateway::too_many_cards) {
        return failure::too_many_cards;
    }
    return answer.decline_code == gateway::token_not_owned ? failure::processor_token_not_owned
                                                           : failure::unknown_processor_token;
}

}  // namespace billpay::payments
