#include "gateway_adapters/make_gateway.hpp"

#include <type_traits>

#include "gateway_adapters/authorizenet/authorizenet_gateway.hpp"
#include "gateway_adapters/simulator/simulator_gateway.hpp"
#include "gateway_adapters/stripe/stripe_gateway.hpp"

namespace billpay::gateway {

std::unique_ptr<gateway> make_gateway(const config::processor_settings& settings,
                                      boost::asio::any_io_executor executor) {
    // A processor added to the config's variant but not here fails to compile.
    return std::visit(
        [&](const auto& s) -> std::unique_ptr<gateway> {
            using settings_type = std::decay_t<decltype(s)>;
            if constexpr (std::is_same_v<settings_type, config::simulator_settings>) {
                return std::make_unique<simulator::simulator_gateway>(s);
            } else if constexpr (std::is_same_v<settings_type, config::stripe_settings>) {
                return std::make_unique<stripe::stripe_gateway>(s, executor);
            } else if constexpr (std::is_same_v<settings_type, config::authorizenet_settings>) {
                return std::make_unique<authorizenet::authorizenet_gateway>(s, executor);
            } else {
                static_assert(sizeof(settings_type) == 0, "a processor without an adapter");
            }
        },
        settings);
}

}  // namespace billpay::gateway
