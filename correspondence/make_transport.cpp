#include "correspondence/make_transport.hpp"

#include <stdexcept>
#include <type_traits>

#include "correspondence/spool_transport.hpp"
#include "correspondence/webhook_transport.hpp"

namespace billpay::correspondence {
namespace {

/// The webhook transport owns the HTTPS client it sends through.
class owning_webhook_transport final : public transport {
  public:
    owning_webhook_transport(const config::webhook_settings& s,
                             boost::asio::any_io_executor executor, https::endpoint to)
        : client_(std::move(executor), https::client::options{s.ca_file, 16, s.keep_alive}),
          webhook_(client_, std::move(to), s.signing_secret, s.timeout) {}

    boost::asio::awaitable<std::vector<delivery>> deliver(
        const std::vector<store::outbox_message>& batch) override {
        co_return co_await webhook_.deliver(batch);
    }

  private:
    https::client client_;
    webhook_transport webhook_;
};

}  // namespace

std::unique_ptr<transport> make_transport(const config::transport_settings& settings,
                                          boost::asio::any_io_executor executor) {
    return std::visit(
        [&](const auto& s) -> std::unique_ptr<transport> {
            using settings_type = std::decay_t<decltype(s)>;
            if constexpr (std::is_same_v<settings_type, config::spool_settings>) {
                return std::make_unique<spool_transport>(s.directory);
            } else if constexpr (std::is_same_v<settings_type, config::webhook_settings>) {
                auto to = https::endpoint::parse(s.url);
                if (!to) {
                    throw std::invalid_argument("correspondence.webhook.url is not an https URL");
                }
                return std::make_unique<owning_webhook_transport>(s, executor, *to);
            } else {
                static_assert(sizeof(settings_type) == 0, "a transport without an implementation");
            }
        },
        settings);
}

}  // namespace billpay::correspondence
