#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>

#include "config/settings.hpp"
#include "correspondence/transport.hpp"
#include "https/client.hpp"

namespace billpay::correspondence {

/// The transport `correspondence.transport` names, with what it needs (the webhook its own
/// HTTPS client, trusting `webhook.ca_file` when set). Chosen by std::visit: a transport the
/// config allows but nobody builds fails to compile. Throws std::invalid_argument for a
/// webhook URL the client cannot use.
std::unique_ptr<transport> make_transport(const config::transport_settings& settings,
                                          boost::asio::any_io_executor executor);

}  // namespace billpay::correspondence
