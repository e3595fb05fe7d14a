#pragma once

#include <chrono>
#include <ctime>
#include <string>

#include "config/secret.hpp"
#include "correspondence/transport.hpp"
#include "https/client.hpp"

namespace billpay::correspondence {

/// POSTs each message to the correspondence system's URL (config `correspondence.webhook`)
/// through the shared HTTPS client, a batch's messages at once, with `Idempotency-Key: <message
/// id>` and the signature. Any 2xx is delivered; 4xx other than 408 and 429 is permanent (the
/// message is dead-lettered at once and logged loudly); everything else, including no answer, is
/// retried.
class webhook_transport final : public transport {
  public:
    webhook_transport(https::client& client, https::endpoint endpoint,
                      config::secret signing_secret, std::chrono::milliseconds timeout);

    boost::asio::awaitable<std::vector<delivery>> deliver(
        const std::vector<store::outbox_message>& batch) override;

  private:
    boost::asio::awaitable<delivery> send(const store::outbox_message& message);

    https::client& client_;
    https::endpoint endpoint_;
    config::secret signing_secret_;
    std::chrono::milliseconds timeout_;
};

}  // namespace billpay::correspondence
